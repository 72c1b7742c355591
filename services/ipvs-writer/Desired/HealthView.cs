using System.Collections.Immutable;
using System.Net;
using LvsEvents.Contracts;

namespace LvsEvents.IpvsWriter.Desired;

/// <summary>
/// What the writer knows of health, built only from the events it received: each real server's state, the weight a
/// misc_dynamic checker asked for, and each virtual service's quorum as the health service decided it. Immutable:
/// <see cref="Apply"/> returns the next view. A real server it has heard nothing about counts as up (as keepalived
/// starts it), or down when its service or a checker has <c>alpha</c>.
/// </summary>
public sealed record HealthView
{
    public static readonly HealthView Empty = new();

    public ImmutableDictionary<RealServerRef, HealthState> Health { get; init; } = ImmutableDictionary<RealServerRef, HealthState>.Empty;

    public ImmutableDictionary<RealServerRef, int> DynamicWeights { get; init; } = ImmutableDictionary<RealServerRef, int>.Empty;

    public ImmutableDictionary<VirtualServiceRef, bool> QuorumUp { get; init; } = ImmutableDictionary<VirtualServiceRef, bool>.Empty;

    /// <summary>The view after <paramref name="e"/>; events that say nothing about health leave it unchanged.</summary>
    public HealthView Apply(LvsEvent e) => e switch
    {
        RealServerHealthChanged h => this with { Health = Health.SetItem(Refs.Normalize(h.RealServer), h.To) },
        RealServerWeightChanged { Cause: WeightChangeCause.Health } w => this with { DynamicWeights = DynamicWeights.SetItem(Refs.Normalize(w.RealServer), w.NewWeight) },
        VirtualServiceQuorumChanged q => this with { QuorumUp = QuorumUp.SetItem(Refs.Normalize(q.VirtualService), q.Up) },
        _ => this,
    };

    /// <summary>
    /// Catches up from the health service's periodic snapshot of one virtual service: its servers take the states the
    /// snapshot lists (what was missed while the bus was away is healed), servers of that service it does not list are
    /// forgotten (back to the default), and its quorum is taken. A listed weight that differs from the configured one
    /// (<paramref name="configuredWeight"/>; null: not configured) is a misc_dynamic weight and is kept as such.
    /// </summary>
    public HealthView ApplySnapshot(VirtualServiceHealthSnapshot snapshot, Func<RealServerRef, int?> configuredWeight)
    {
        var service = Refs.Normalize(snapshot.VirtualService);
        var health = Health.RemoveRange(Health.Keys.Where(k => k.VirtualService == service));
        var weights = DynamicWeights.RemoveRange(DynamicWeights.Keys.Where(k => k.VirtualService == service));
        foreach (var entry in snapshot.RealServers)
        {
            var colon = entry.Endpoint.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(entry.Endpoint.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port))
            {
                continue;
            }

            var server = new RealServerRef(service, Refs.Address(entry.Endpoint[..colon].Trim('[', ']')), port);
            if (entry.State != HealthState.Unknown)
            {
                health = health.SetItem(server, entry.State);
            }

            // Down under inhibit_on_failure the health service reports weight 0: that is not a dynamic weight.
            if (entry.State == HealthState.Up && configuredWeight(server) is { } configured && configured != entry.Weight)
            {
                weights = weights.SetItem(server, entry.Weight);
            }
        }

        return this with { Health = health, DynamicWeights = weights, QuorumUp = QuorumUp.SetItem(service, snapshot.QuorumUp) };
    }

    /// <summary>
    /// Replaces what is known with a full picture (the health service's periodic snapshot): servers it lists take its
    /// state; nothing else is kept, so a snapshot heals anything missed while the bus was away.
    /// </summary>
    public static HealthView FromSnapshot(IEnumerable<(RealServerRef Server, HealthState State, int? DynamicWeight)> servers, IEnumerable<(VirtualServiceRef Service, bool Up)> quorums)
    {
        var view = Empty;
        foreach (var (server, state, weight) in servers)
        {
            var key = Refs.Normalize(server);
            view = view with { Health = view.Health.SetItem(key, state) };
            if (weight is { } w)
            {
                view = view with { DynamicWeights = view.DynamicWeights.SetItem(key, w) };
            }
        }

        foreach (var (service, up) in quorums)
        {
            view = view with { QuorumUp = view.QuorumUp.SetItem(Refs.Normalize(service), up) };
        }

        return view;
    }
}

/// <summary>A drain in progress: weight 0 until <see cref="Finished"/> (connections gone or timeout passed), then removed.</summary>
public sealed record Drain(DateTimeOffset Started, TimeSpan Timeout, Guid CausingEvent, bool Finished = false)
{
    public bool TimedOut(DateTimeOffset now) => now - Started >= Timeout;
}

/// <summary>Operator and recovery decisions: weight overrides (set-weight) and drains; restore clears both.</summary>
public sealed record WeightOverrides
{
    public static readonly WeightOverrides None = new();

    public ImmutableDictionary<RealServerRef, int> Weights { get; init; } = ImmutableDictionary<RealServerRef, int>.Empty;

    public ImmutableDictionary<RealServerRef, Drain> Drains { get; init; } = ImmutableDictionary<RealServerRef, Drain>.Empty;

    public WeightOverrides Apply(LvsEvent e, DateTimeOffset now) => e switch
    {
        SetWeightCommand s => this with { Weights = Weights.SetItem(Refs.Normalize(s.RealServer), s.Weight), Drains = Drains.Remove(Refs.Normalize(s.RealServer)) },
        DrainCommand d => this with { Drains = Drains.SetItem(Refs.Normalize(d.RealServer), new Drain(now, d.Timeout, d.EventId)) },
        RestoreCommand r => this with { Weights = Weights.Remove(Refs.Normalize(r.RealServer)), Drains = Drains.Remove(Refs.Normalize(r.RealServer)) },
        _ => this,
    };

    public WeightOverrides FinishDrain(RealServerRef server) =>
        Drains.TryGetValue(server, out var d) && !d.Finished ? this with { Drains = Drains.SetItem(server, d with { Finished = true }) } : this;
}

/// <summary>References compared by value: addresses in canonical form (10.0.0.1, 2001:db8::1), protocol upper case.</summary>
public static class Refs
{
    public static VirtualServiceRef Normalize(VirtualServiceRef r) =>
        r with { Protocol = r.Protocol.ToUpperInvariant(), Address = Address(r.Address) };

    public static RealServerRef Normalize(RealServerRef r) =>
        new(Normalize(r.VirtualService), Address(r.Address), r.Port);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Canonical = new(StringComparer.Ordinal);

    /// <summary>The canonical text of an address (cached: the same few thousand addresses come by again and again).</summary>
    public static string Address(string address)
    {
        if (Canonical.TryGetValue(address, out var canonical))
        {
            return canonical;
        }

        canonical = address.Length > 0 && IPAddress.TryParse(address, out var ip) ? ip.ToString() : address;
        if (Canonical.Count > 1 << 20)
        {
            Canonical.Clear();
        }

        Canonical[address] = canonical;
        return canonical;
    }
}
