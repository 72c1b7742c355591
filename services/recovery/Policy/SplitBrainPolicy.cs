using System.Net;
using LvsEvents.Contracts;

namespace LvsEvents.Recovery.Policy;

/// <summary>What a node found when it checked its reachability (as the article's script pings gateway and peer). Null: not checked.</summary>
public sealed record Reachability(bool? Gateway, bool? Peer);

/// <summary>
/// Which node yields when both are master (<c>vrrp.split-brain-suspected</c> on this node). Pure. In order: a node that
/// cannot reach its gateway yields (it is the one cut off); else the lower priority yields; on a tie the configured
/// preferred master stays; else the lower address yields (VRRP's own tie-break). A node that cannot tell stays and
/// says so. One resignation per instance until <see cref="Healed"/>; repeated suspicions and duplicate event ids change nothing.
/// A resignation because the gateway was unreachable is restored by <see cref="CheckHealed"/> once it answers again (the
/// caller checks while <see cref="AwaitingHeal"/>): as the article's script pings on until the link is back.
/// </summary>
public sealed class SplitBrainPolicy(RecoveryOptions options, string localNode)
{
    public const string Policy = "split-brain";
    private readonly HashSet<Guid> _seen = [];
    private readonly Dictionary<string, Resignation> _resigned = new(StringComparer.Ordinal);

    /// <summary>An instance this node resigned: the suspicion behind it, and whether the gateway check decided it.</summary>
    private sealed record Resignation(Guid Suspicion, int VirtualRouterId, bool GatewayUnreachable);

    public IReadOnlyList<LvsEvent> Handle(SplitBrainSuspected e, Reachability reachability, DateTimeOffset now)
    {
        if (!options.SplitBrain.Enabled || e.NodeId != localNode || !_seen.Add(e.EventId) || _resigned.ContainsKey(e.Instance))
        {
            return [];
        }

        var (yield, reason) = Decide(e, reachability);
        var decision = new RecoveryDecision
        {
            EventId = Guid.CreateVersion7(now),
            OccurredAt = now,
            CorrelationId = e.EventId,
            CausationId = e.EventId,
            Policy = Policy,
            Action = yield ? RecoveryAction.Yield : RecoveryAction.Stay,
            Subject = StreamKeys.VrrpInstance(localNode, e.Instance),
            Instance = e.Instance,
            Reason = reason,
            CausingEvents = [e.EventId],
            Alert = AlertSeverity.Critical,
        };
        if (!yield)
        {
            return [decision];
        }

        _resigned[e.Instance] = new Resignation(e.EventId, e.VirtualRouterId, reachability.Gateway == false);
        return
        [
            decision,
            new VrrpResignCommand
            {
                EventId = Guid.CreateVersion7(now),
                OccurredAt = now,
                CorrelationId = e.EventId,
                CausationId = decision.EventId,
                TargetNode = localNode,
                Instance = e.Instance,
                VirtualRouterId = e.VirtualRouterId,
                Mode = VrrpResignMode.PriorityDrop,
                Priority = options.SplitBrain.YieldPriority,
                RequestedBy = options.RequestedBy,
                Reason = reason,
            },
        ];
    }

    /// <summary>Whether this node has resigned an instance and not restored it.</summary>
    public bool HasResigned(string instance) => _resigned.ContainsKey(instance);

    /// <summary>Whether a resignation waits for the gateway to answer again (the caller then checks reachability now and then).</summary>
    public bool AwaitingHeal => _resigned.Values.Any(r => r.GatewayUnreachable);

    /// <summary>
    /// The outcome of a reachability check while <see cref="AwaitingHeal"/>: once the gateway answers, the partition that
    /// cut this node off healed, and what it resigned for that reason is restored.
    /// </summary>
    public IReadOnlyList<LvsEvent> CheckHealed(Reachability reachability, DateTimeOffset now)
    {
        if (reachability.Gateway != true)
        {
            return [];
        }

        return _resigned.Where(r => r.Value.GatewayUnreachable).ToList()
            .SelectMany(r => Restore(r.Key, r.Value.VirtualRouterId, null, $"gateway {options.SplitBrain.Gateway} answers again: partition healed, configured priority back", now))
            .ToList();
    }

    /// <summary>The partition healed (the caller decides when): the restore command for a resigned instance, if any.</summary>
    public IReadOnlyList<LvsEvent> Healed(string instance, int virtualRouterId, LvsEvent cause, DateTimeOffset now) =>
        Restore(instance, virtualRouterId, cause.EventId, "partition healed: configured priority back", now);

    private IReadOnlyList<LvsEvent> Restore(string instance, int virtualRouterId, Guid? cause, string reason, DateTimeOffset now)
    {
        if (!_resigned.Remove(instance, out var resignation))
        {
            return [];
        }

        var original = resignation.Suspicion;
        var decision = new RecoveryDecision
        {
            EventId = Guid.CreateVersion7(now), OccurredAt = now, CorrelationId = original, CausationId = cause ?? original,
            Policy = Policy, Action = RecoveryAction.Released, Subject = StreamKeys.VrrpInstance(localNode, instance), Instance = instance,
            Reason = reason, CausingEvents = cause is { } c ? [original, c] : [original], Alert = AlertSeverity.Info,
        };
        return
        [
            decision,
            new VrrpResignCommand
            {
                EventId = Guid.CreateVersion7(now), OccurredAt = now, CorrelationId = original, CausationId = decision.EventId,
                TargetNode = localNode, Instance = instance, VirtualRouterId = virtualRouterId, Mode = VrrpResignMode.PriorityDrop,
                Restore = true, RequestedBy = options.RequestedBy, Reason = decision.Reason,
            },
        ];
    }

    private (bool Yield, string Reason) Decide(SplitBrainSuspected e, Reachability reachability)
    {
        if (reachability.Gateway == false)
        {
            return (true, "this node cannot reach its gateway: it is the one cut off");
        }

        if (e.LocalPriority != e.PeerPriority)
        {
            return e.LocalPriority < e.PeerPriority
                ? (true, $"lower priority ({e.LocalPriority} < peer {e.PeerAddress} {e.PeerPriority})")
                : (false, $"higher priority ({e.LocalPriority} > peer {e.PeerAddress} {e.PeerPriority}): the peer should yield");
        }

        if (!string.IsNullOrWhiteSpace(options.SplitBrain.PreferredMaster))
        {
            return options.SplitBrain.PreferredMaster == localNode
                ? (false, $"equal priority {e.LocalPriority}; this node is the preferred master")
                : (true, $"equal priority {e.LocalPriority}; the preferred master is {options.SplitBrain.PreferredMaster}");
        }

        if (IPAddress.TryParse(options.SplitBrain.LocalAddress, out var local) && IPAddress.TryParse(e.PeerAddress, out var peer)
            && local.AddressFamily == peer.AddressFamily)
        {
            var order = CompareAddresses(local, peer);
            if (order != 0)
            {
                return order < 0
                    ? (true, $"equal priority {e.LocalPriority}; lower address ({local} < peer {peer})")
                    : (false, $"equal priority {e.LocalPriority}; higher address ({local} > peer {peer}): the peer should yield");
            }
        }

        return (false, $"equal priority {e.LocalPriority} and no preferred master or local address configured: cannot tell which node should yield");
    }

    private static int CompareAddresses(IPAddress a, IPAddress b)
    {
        var x = a.GetAddressBytes();
        var y = b.GetAddressBytes();
        for (var i = 0; i < x.Length; i++)
        {
            if (x[i] != y[i])
            {
                return x[i].CompareTo(y[i]);
            }
        }

        return 0;
    }
}
