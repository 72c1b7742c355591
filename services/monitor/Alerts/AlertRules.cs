using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Alerts;

/// <summary>
/// The monitor's alert rules, pure: events (and time, for rules that resolve by quiet) in, firing and clearing
/// out. The <see cref="AlertBook"/> above them makes each alert fire once per episode.
/// </summary>
public interface IAlertRule
{
    string Name { get; }

    IEnumerable<AlertChange> Observe(LvsEvent e);

    /// <summary>Rules that resolve after a quiet period clear here.</summary>
    IEnumerable<AlertChange> Tick(DateTimeOffset now) => [];
}

/// <summary>A real server's wanted weight went to 0 (down with inhibit_on_failure, drained, operator).</summary>
public sealed class RealServerWeightZeroRule : IAlertRule
{
    public string Name => "real-server-weight-zero";

    public IEnumerable<AlertChange> Observe(LvsEvent e)
    {
        if (e is RealServerWeightChanged w)
        {
            yield return w.NewWeight == 0
                ? new AlertFires(Name, w.RealServer.ToString(), AlertSeverity.Warning, $"{w.RealServer} weight is 0 ({w.Cause}{(w.Detail is null ? "" : ": " + w.Detail)})", w.EventId)
                : new AlertClears(Name, w.RealServer.ToString(), w.EventId);
        }
    }
}

/// <summary>Every real server seen for a virtual service is down.</summary>
public sealed class AllRealServersDownRule : IAlertRule
{
    private readonly Dictionary<VirtualServiceRef, Dictionary<RealServerRef, HealthState>> _health = [];

    public string Name => "virtual-service-all-down";

    public IEnumerable<AlertChange> Observe(LvsEvent e)
    {
        if (e is not RealServerHealthChanged h)
            yield break;
        var service = h.RealServer.VirtualService;
        if (!_health.TryGetValue(service, out var servers))
            _health[service] = servers = [];
        servers[h.RealServer] = h.To;
        if (servers.Values.All(s => s == HealthState.Down))
            yield return new AlertFires(Name, service.ToString(), AlertSeverity.Critical, $"all {servers.Count} real servers of {service} are down", h.EventId);
        else
            yield return new AlertClears(Name, service.ToString(), h.EventId);
    }
}

/// <summary>A backup took over because the master went quiet or left; clears once the new master held for a while.</summary>
public sealed class FailoverRule(TimeSpan stableAfter) : IAlertRule
{
    private readonly Dictionary<string, DateTimeOffset> _since = [];

    public string Name => "vrrp-failover";

    public IEnumerable<AlertChange> Observe(LvsEvent e)
    {
        if (e is VrrpStateChanged { To: VrrpState.Master, Reason: VrrpTransitionReason.MasterDownTimerExpired or VrrpTransitionReason.PriorityZeroReceived } s)
        {
            var subject = $"{s.Instance} (VRID {s.VirtualRouterId})";
            _since[subject] = s.OccurredAt;
            yield return new AlertFires(Name, subject, AlertSeverity.Warning,
                $"{s.NodeId} took over {s.Instance}: {s.Reason}; last advert from {s.Evidence?.LastAdvertFrom ?? "nobody"} at priority {s.Evidence?.LastAdvertPriority}", s.EventId);
        }
    }

    public IEnumerable<AlertChange> Tick(DateTimeOffset now)
    {
        foreach (var (subject, since) in _since.Where(p => now - p.Value >= stableAfter).ToList())
        {
            _since.Remove(subject);
            yield return new AlertClears(Name, subject, null);
        }
    }
}

/// <summary>A node suspects split brain; clears when it re-announced after the other master went quiet, or left master.</summary>
public sealed class SplitBrainRule : IAlertRule
{
    public string Name => "vrrp-split-brain";

    public IEnumerable<AlertChange> Observe(LvsEvent e)
    {
        switch (e)
        {
            case SplitBrainSuspected s:
                yield return new AlertFires(Name, $"{s.NodeId}/{s.Instance}", AlertSeverity.Critical,
                    $"{s.NodeId} is master of {s.Instance} and so is {s.PeerAddress} (priority {s.PeerPriority} vs {s.LocalPriority}, {s.IntervalsObserved} adverts)", s.EventId);
                break;
            case GratuitousArpSent g when g.Reason.Contains("split brain healed", StringComparison.Ordinal):
                yield return new AlertClears(Name, $"{g.NodeId}/{g.Instance}", g.EventId);
                break;
            case VrrpStateChanged { From: VrrpState.Master } s:
                yield return new AlertClears(Name, $"{s.NodeId}/{s.Instance}", s.EventId);
                break;
        }
    }
}

/// <summary>The health watchdog found a checker loop or a real server's probes stalled (keepalived #2523); clears on the next probe.</summary>
public sealed class CheckerStalledRule : IAlertRule
{
    public string Name => "health-checker-stalled";

    public IEnumerable<AlertChange> Observe(LvsEvent e)
    {
        switch (e)
        {
            case HealthCheckerStalled s:
                yield return new AlertFires(Name, $"{s.NodeId}/{s.RealServer?.ToString() ?? s.Checker}", AlertSeverity.Critical,
                    $"{s.Checker} on {s.NodeId} silent for {s.SilentFor.TotalSeconds:0} s (expected every {s.Expected.TotalSeconds:0.#} s)", s.EventId);
                break;
            case ProbeCompleted p:
                yield return new AlertClears(Name, $"{p.NodeId}/{p.RealServer}", p.EventId);
                break;
        }
    }
}

/// <summary>
/// A service's spool keeps growing past a threshold (its events are not reaching the bus): fires when the depth
/// is above the threshold and grew since the previous heartbeat; clears once it is back under.
/// </summary>
public sealed class SpoolBacklogRule(long threshold) : IAlertRule
{
    private readonly Dictionary<string, long> _last = [];

    public string Name => "spool-backlog-growing";

    public IEnumerable<AlertChange> Observe(LvsEvent e)
    {
        if (e is not ServiceHeartbeat h)
            yield break;
        var subject = $"{h.NodeId}/{h.Service}";
        var grew = _last.TryGetValue(subject, out var previous) && h.SpoolDepth > previous;
        _last[subject] = h.SpoolDepth;
        if (h.SpoolDepth > threshold && grew)
            yield return new AlertFires(Name, subject, AlertSeverity.Warning, $"{h.Service} on {h.NodeId} has {h.SpoolDepth} events waiting for the bus (was {previous})", h.EventId);
        else if (h.SpoolDepth <= threshold)
            yield return new AlertClears(Name, subject, h.EventId);
    }
}

/// <summary>
/// The recovery service held a flapping server out (or made a split-brain decision) and marked it as alerting;
/// clears when it releases the server.
/// </summary>
public sealed class RecoveryDecisionRule : IAlertRule
{
    public string Name => "recovery-decision";

    public IEnumerable<AlertChange> Observe(LvsEvent e)
    {
        if (e is not RecoveryDecision d)
            yield break;
        if (d.Alert is { } severity && d.Action is not (RecoveryAction.Released or RecoveryAction.RampCompleted))
            yield return new AlertFires(Name, d.Subject, severity, $"{d.Policy}: {d.Action} {d.Subject}: {d.Reason}", d.EventId);
        else if (d.Action is RecoveryAction.Released or RecoveryAction.RampCompleted)
            yield return new AlertClears(Name, d.Subject, d.EventId);
    }
}
