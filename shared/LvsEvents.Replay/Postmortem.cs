using System.Diagnostics;
using LvsEvents.Contracts;

namespace LvsEvents.Replay;

public sealed record Failover(
    string Instance, DateTimeOffset At, string? OldMaster, string NewMaster, VrrpTransitionReason Reason,
    DateTimeOffset GapStart, string GapStartsAt, DateTimeOffset? VipAt, TimeSpan? Gap, bool Election)
{
    public DateTimeOffset? VipAt { get; set; } = VipAt;
    public TimeSpan? Gap { get; set; } = Gap;
}

public sealed record WeightChange(DateTimeOffset At, string RealServer, int OldWeight, int NewWeight, WeightChangeCause Cause, string Node, string? Detail, string? RequestedBy);

public sealed record Outage(string RealServer, DateTimeOffset DownAt, bool BeganBeforeWindow, string? Checker, string? Reason, IReadOnlyList<Guid> CausingProbes)
{
    public DateTimeOffset? FirstFailedProbeAt { get; set; }
    public DateTimeOffset? UpAt { get; set; }
    public TimeSpan Duration { get; set; }
    public List<WeightChange> WeightChanges { get; } = [];
}

public sealed record KernelChange(DateTimeOffset At, string Node, KernelOperation Operation, string VirtualService, string? RealServer, string? Before, string? After);

public sealed record DriftCorrection(DateTimeOffset At, string Node, IReadOnlyList<string> Differences);

public sealed record AlertEpisode(string AlertKey, string Rule, AlertSeverity Severity, string Subject, string Message, DateTimeOffset RaisedAt, bool RaisedBeforeWindow)
{
    public DateTimeOffset? ResolvedAt { get; set; }
    public TimeSpan Duration { get; set; }
}

public sealed record ConfigEvent(DateTimeOffset At, string Node, string Service, bool Applied, string File, string? Hash, IReadOnlyList<ConfigurationChange> Changes, IReadOnlyList<string> Errors);

public sealed record LaneSegment(DateTimeOffset From, DateTimeOffset To, string State, string Label);

public sealed record Lane(string Kind, string Name, IReadOnlyList<LaneSegment> Segments);

public sealed record Marker(DateTimeOffset At, string Kind, string Label);

/// <summary>An incident report for a window, built from the recorded events only.</summary>
public sealed class PostmortemReport
{
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
    public required ClusterView StateAtStart { get; init; }
    public required ClusterView StateAtEnd { get; init; }
    public List<Failover> Failovers { get; } = [];
    public List<Outage> Outages { get; } = [];
    public List<WeightChange> WeightChanges { get; } = [];
    public List<KernelChange> KernelChanges { get; } = [];
    public List<DriftCorrection> DriftCorrections { get; } = [];
    public List<AlertEpisode> Alerts { get; } = [];
    public List<ConfigEvent> ConfigChanges { get; } = [];
    public List<(DateTimeOffset At, string Instance, string Node, string Peer)> SplitBrains { get; } = [];
    /// <summary>Recovery decisions, commands (who asked for what, why) and drill steps, in time order.</summary>
    public List<DecisionEntry> Decisions { get; } = [];
    /// <summary>Time with at least one real server down or at weight 0.</summary>
    public TimeSpan ReducedCapacity { get; set; }
    /// <summary>Per VRRP instance: time with no master.</summary>
    public SortedDictionary<string, TimeSpan> WithoutMaster { get; } = new(StringComparer.Ordinal);
    public List<Lane> Lanes { get; } = [];
    public int LanesOmitted { get; set; }
    public List<Marker> Markers { get; } = [];
    public long EventsRead { get; set; }
    public TimeSpan Took { get; set; }
}

/// <summary>
/// Builds a <see cref="PostmortemReport"/>: the view at the window's start (from a snapshot), then every event of
/// the window except probe results folded in time order, watching what changes. Probe results are read only for
/// the probes a health change names (the first failure is the detection time).
/// </summary>
public sealed class PostmortemBuilder(ClusterProjection projection)
{
    public int MaxRealServerLanes { get; init; } = 40;

    public async Task<PostmortemReport> BuildAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var start = await projection.StateAtAsync(from.AddTicks(-10), cancellationToken).ConfigureAwait(false);
        var view = start.View;
        var report = new PostmortemReport { From = from, To = to, StateAtStart = view.Clone(), StateAtEnd = view };
        var tracker = new Tracker(report, view, from, MaxRealServerLanes);
        tracker.Initialize(from);
        var commands = new Dictionary<Guid, string>();
        await foreach (var stored in projection.Events.ReadAsync(new EventFilter { From = from, To = to, ExcludedTypes = [EventTypes.ProbeCompleted] }, cancellationToken).ConfigureAwait(false))
        {
            report.EventsRead++;
            var e = stored.Event;
            if (DecisionLog.Describe(e) is { } decision)
            {
                report.Decisions.Add(decision);
            }

            switch (e)
            {
                case SetWeightCommand c:
                    commands[c.EventId] = c.RequestedBy;
                    break;
                case DrainCommand c:
                    commands[c.EventId] = c.RequestedBy;
                    break;
                case RestoreCommand c:
                    commands[c.EventId] = c.RequestedBy;
                    break;
            }

            tracker.Before(e, commands);
            view.Apply(e);
            tracker.After(e);
        }

        tracker.Finish(to);
        var probes = report.Outages.SelectMany(o => o.CausingProbes).Distinct().ToList();
        if (probes.Count > 0)
        {
            var found = (await projection.Events.ByIdsAsync(probes, cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Event.EventId, p => p.Event.OccurredAt);
            foreach (var outage in report.Outages)
            {
                var times = outage.CausingProbes.Where(found.ContainsKey).Select(id => found[id]).ToList();
                outage.FirstFailedProbeAt = times.Count > 0 ? times.Min() : null;
            }
        }

        report.Took = clock.Elapsed;
        return report;
    }

    private sealed class Tracker(PostmortemReport report, ClusterView view, DateTimeOffset from, int maxRealServerLanes)
    {
        private readonly Dictionary<string, Outage> _openOutages = InitialOutages(report, view, from);
        private readonly Dictionary<string, AlertEpisode> _openAlerts = view.OpenAlerts.Values.ToDictionary(
            a => a.AlertKey, a => new AlertEpisode(a.AlertKey, a.Rule, a.Severity, a.Subject, a.Message, a.Since, true));
        private readonly Dictionary<string, (string Node, DateTimeOffset At)> _lastMasterLeft = [];
        private readonly Dictionary<(string Instance, string Node), Failover> _awaitingVip = [];
        private readonly Dictionary<(string Instance, string Node), DateTimeOffset> _lastVip = [];
        private readonly Dictionary<string, (string State, string Label, DateTimeOffset Since, List<LaneSegment> Done)> _lanes = [];
        private readonly HashSet<string> _changedRealServers = [];
        private readonly Dictionary<string, DateTimeOffset> _headlessSince = [];
        private DateTimeOffset? _reducedSince;
        private string? _vrrpBefore;

        public void Before(LvsEvent e, Dictionary<Guid, string> commands)
        {
            switch (e)
            {
                case VrrpStateChanged s when s.To == VrrpState.Master:
                {
                    var instance = view.Instances.GetValueOrDefault(s.Instance);
                    var owners = instance?.Owners.Where(n => n != s.NodeId).ToList() ?? [];
                    var lost = instance?.Nodes.Where(n => n.Key != s.NodeId && n.Value is { State: VrrpState.Master, Lost: true }).Select(n => n.Key).ToList() ?? [];
                    var left = _lastMasterLeft.GetValueOrDefault(s.Instance);
                    var old = owners.FirstOrDefault() ?? lost.FirstOrDefault() ?? (left.Node != s.NodeId ? left.Node : null);
                    DateTimeOffset gapStart = s.OccurredAt;
                    var gapFrom = "state change";
                    if (s.Evidence?.LastAdvertAt is { } advert && s.Reason == VrrpTransitionReason.MasterDownTimerExpired)
                    {
                        gapStart = advert;
                        gapFrom = "old master's last advert";
                    }
                    else if (left.Node is not null && left.Node != s.NodeId && left.At <= s.OccurredAt && owners.Count == 0)
                    {
                        gapStart = left.At;
                        gapFrom = "old master left";
                    }

                    var failover = new Failover(s.Instance, s.OccurredAt, old, s.NodeId, s.Reason, gapStart, gapFrom, null, null, old is null);
                    report.Failovers.Add(failover);
                    // The VIP may be added in the same instant as, or just before, the state change is timed.
                    if (_lastVip.TryGetValue((s.Instance, s.NodeId), out var vipAt) && vipAt >= gapStart && s.OccurredAt - vipAt < TimeSpan.FromSeconds(1))
                    {
                        failover.VipAt = vipAt;
                        failover.Gap = vipAt - gapStart;
                    }
                    else
                    {
                        _awaitingVip[(s.Instance, s.NodeId)] = failover;
                    }

                    report.Markers.Add(new Marker(s.OccurredAt, "failover", $"{s.Instance}: {old ?? "-"} → {s.NodeId}"));
                    break;
                }
                case VrrpStateChanged s when s.From == VrrpState.Master:
                    _lastMasterLeft[s.Instance] = (s.NodeId, s.OccurredAt);
                    break;
                case VipAcquired v:
                    _lastVip[(v.Instance, v.NodeId)] = v.OccurredAt;
                    if (_awaitingVip.Remove((v.Instance, v.NodeId), out var waiting))
                    {
                        waiting.VipAt = v.OccurredAt;
                        waiting.Gap = v.OccurredAt - waiting.GapStart;
                    }

                    break;
                case SplitBrainSuspected b:
                    report.SplitBrains.Add((b.OccurredAt, b.Instance, b.NodeId, b.PeerAddress));
                    report.Markers.Add(new Marker(b.OccurredAt, "split-brain", $"{b.Instance}: split brain suspected by {b.NodeId} (peer {b.PeerAddress})"));
                    break;
                case RealServerHealthChanged h when h.To == HealthState.Down:
                {
                    var key = h.RealServer.ToString();
                    if (!_openOutages.ContainsKey(key))
                    {
                        var outage = new Outage(key, h.OccurredAt, false, h.Checker, h.Reason, h.CausingProbes);
                        _openOutages[key] = outage;
                        report.Outages.Add(outage);
                    }

                    break;
                }
                case RealServerHealthChanged h when h.To == HealthState.Up:
                    if (_openOutages.Remove(h.RealServer.ToString(), out var closed))
                    {
                        if (closed.BeganBeforeWindow)
                        {
                            report.Outages.Add(closed);
                        }

                        closed.UpAt = h.OccurredAt;
                        closed.Duration = h.OccurredAt - closed.DownAt;
                    }

                    break;
                case RealServerWeightChanged w:
                {
                    var change = new WeightChange(w.OccurredAt, w.RealServer.ToString(), w.OldWeight, w.NewWeight, w.Cause, w.NodeId, w.Detail,
                        w.CausationId is { } cause && commands.TryGetValue(cause, out var who) ? who : null);
                    report.WeightChanges.Add(change);
                    if (_openOutages.TryGetValue(change.RealServer, out var outage))
                    {
                        outage.WeightChanges.Add(change);
                    }
                    else if (report.Outages.LastOrDefault(o => o.RealServer == change.RealServer && o.UpAt is { } up && w.OccurredAt - up < TimeSpan.FromMinutes(1)) is { } recent)
                    {
                        recent.WeightChanges.Add(change); // the weight put back after recovery
                    }

                    break;
                }
                case KernelRuleApplied k:
                    report.KernelChanges.Add(new KernelChange(k.OccurredAt, k.NodeId, k.Operation, k.VirtualService.ToString(), k.RealServer?.ToString(), k.Before, k.After));
                    break;
                case KernelDriftCorrected d:
                    report.DriftCorrections.Add(new DriftCorrection(d.OccurredAt, d.NodeId, d.Differences));
                    report.Markers.Add(new Marker(d.OccurredAt, "drift", $"{d.NodeId}: kernel drift corrected ({d.Differences.Count})"));
                    break;
                case AlertRaised a:
                {
                    var episode = new AlertEpisode(a.AlertKey, a.Rule, a.Severity, a.Subject, a.Message, a.OccurredAt, false);
                    _openAlerts[a.AlertKey] = episode;
                    report.Alerts.Add(episode);
                    report.Markers.Add(new Marker(a.OccurredAt, "alert", $"{a.Severity} {a.Rule}: {a.Subject}"));
                    break;
                }
                case AlertResolved r:
                    if (_openAlerts.Remove(r.AlertKey, out var episodeOpen))
                    {
                        if (episodeOpen.RaisedBeforeWindow)
                        {
                            report.Alerts.Add(episodeOpen);
                        }

                        episodeOpen.ResolvedAt = r.OccurredAt;
                        episodeOpen.Duration = r.OccurredAt - episodeOpen.RaisedAt;
                    }

                    report.Markers.Add(new Marker(r.OccurredAt, "resolved", $"resolved {r.Rule}: {r.Subject}"));
                    break;
                case ConfigurationApplied c:
                    report.ConfigChanges.Add(new ConfigEvent(c.OccurredAt, c.NodeId, c.Service, true, c.File, c.Hash, c.Changes, []));
                    report.Markers.Add(new Marker(c.OccurredAt, "config", $"{c.NodeId}/{c.Service}: configuration applied ({c.Changes.Count} changes)"));
                    break;
                case ConfigurationRejected c:
                    report.ConfigChanges.Add(new ConfigEvent(c.OccurredAt, c.NodeId, c.Service, false, c.File, null, [], c.Errors));
                    report.Markers.Add(new Marker(c.OccurredAt, "config", $"{c.NodeId}/{c.Service}: configuration rejected"));
                    break;
            }

            _vrrpBefore = e is VrrpStateChanged or VipAcquired or SplitBrainSuspected ? "vrrp" : null;
        }

        public void After(LvsEvent e)
        {
            if (_vrrpBefore is not null)
            {
                ObserveVrrp(e.OccurredAt);
            }

            switch (e)
            {
                case RealServerHealthChanged h:
                    _changedRealServers.Add(h.RealServer.ToString());
                    ObserveCapacity(e.OccurredAt);
                    break;
                case RealServerWeightChanged w:
                    _changedRealServers.Add(w.RealServer.ToString());
                    ObserveCapacity(e.OccurredAt);
                    break;
                case VirtualServiceHealthSnapshot:
                    ObserveCapacity(e.OccurredAt);
                    break;
            }
        }

        public void Finish(DateTimeOffset to)
        {
            foreach (var outage in _openOutages.Values)
            {
                if (outage.BeganBeforeWindow)
                {
                    report.Outages.Add(outage);
                }

                outage.Duration = to - outage.DownAt;
            }

            foreach (var alert in _openAlerts.Values)
            {
                alert.Duration = to - alert.RaisedAt;
                if (alert.RaisedBeforeWindow)
                {
                    report.Alerts.Add(alert);
                }
            }

            if (_reducedSince is { } since)
            {
                report.ReducedCapacity += to - since;
            }

            foreach (var (instance, headless) in _headlessSince)
            {
                report.WithoutMaster[instance] = report.WithoutMaster.GetValueOrDefault(instance) + (to - headless);
            }

            ObserveVrrp(to);
            ObserveRealServers(to);
            var nodeLanes = _lanes.Where(l => l.Key.StartsWith("vrrp ", StringComparison.Ordinal)).OrderBy(l => l.Key, StringComparer.Ordinal);
            foreach (var (name, lane) in nodeLanes)
            {
                report.Lanes.Add(new Lane("node", name[5..], Close(lane, to)));
            }

            var rsLanes = _lanes.Where(l => l.Key.StartsWith("rs ", StringComparison.Ordinal))
                .OrderByDescending(l => _changedRealServers.Contains(l.Key[3..]))
                .ThenBy(l => l.Key, StringComparer.Ordinal).ToList();
            var shown = rsLanes.Where(l => _changedRealServers.Contains(l.Key[3..]) || l.Value.State != "Up").Take(maxRealServerLanes).ToList();
            report.LanesOmitted = rsLanes.Count - shown.Count;
            foreach (var (name, lane) in shown)
            {
                report.Lanes.Add(new Lane("real-server", name[3..], Close(lane, to)));
            }

            report.Failovers.Sort((a, b) => a.At.CompareTo(b.At));
            report.Outages.Sort((a, b) => a.DownAt.CompareTo(b.DownAt));
            report.Alerts.Sort((a, b) => a.RaisedAt.CompareTo(b.RaisedAt));
            report.Markers.Sort((a, b) => a.At.CompareTo(b.At));
        }

        private static List<LaneSegment> Close((string State, string Label, DateTimeOffset Since, List<LaneSegment> Done) lane, DateTimeOffset to)
        {
            var all = new List<LaneSegment>(lane.Done);
            if (to > lane.Since)
            {
                all.Add(new LaneSegment(lane.Since, to, lane.State, lane.Label));
            }

            return all;
        }

        private void Observe(string key, string state, string label, DateTimeOffset at)
        {
            if (!_lanes.TryGetValue(key, out var lane))
            {
                _lanes[key] = (state, label, at, []);
                return;
            }

            if (lane.State == state && lane.Label == label)
            {
                return;
            }

            if (at > lane.Since)
            {
                lane.Done.Add(new LaneSegment(lane.Since, at, lane.State, lane.Label));
            }

            _lanes[key] = (state, label, at, lane.Done);
        }

        private void ObserveVrrp(DateTimeOffset at)
        {
            foreach (var (name, instance) in view.Instances)
            {
                foreach (var (node, state) in instance.Nodes)
                {
                    var label = state.Lost ? "Lost" : state.State.ToString();
                    Observe($"vrrp {node} {name}", label, $"{label} (priority {state.EffectivePriority})", at);
                }

                var headless = instance.Owners.Count == 0;
                if (headless && !_headlessSince.ContainsKey(name))
                {
                    _headlessSince[name] = at;
                }
                else if (!headless && _headlessSince.Remove(name, out var since))
                {
                    report.WithoutMaster[name] = report.WithoutMaster.GetValueOrDefault(name) + (at - since);
                }
            }
        }

        private void ObserveRealServers(DateTimeOffset at)
        {
            foreach (var vs in view.VirtualServices.Values)
            {
                foreach (var rs in vs.RealServers.Values)
                {
                    var state = rs.Health == HealthState.Up && rs.Weight == 0 ? "Drained" : rs.Health.ToString();
                    Observe("rs " + rs.RealServer, state, $"{rs.Health}, weight {rs.Weight?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}", at);
                }
            }
        }

        private void ObserveCapacity(DateTimeOffset at)
        {
            ObserveRealServers(at);
            var reduced = view.VirtualServices.Values.SelectMany(v => v.RealServers.Values).Any(rs => rs.Health == HealthState.Down || rs.Weight == 0);
            if (reduced && _reducedSince is null)
            {
                _reducedSince = at;
            }
            else if (!reduced && _reducedSince is { } since)
            {
                report.ReducedCapacity += at - since;
                _reducedSince = null;
            }
        }

        private static Dictionary<string, Outage> InitialOutages(PostmortemReport report, ClusterView view, DateTimeOffset from)
        {
            var open = new Dictionary<string, Outage>(StringComparer.Ordinal);
            foreach (var rs in view.VirtualServices.Values.SelectMany(v => v.RealServers.Values).Where(r => r.Health == HealthState.Down))
            {
                open[rs.RealServer] = new Outage(rs.RealServer, rs.HealthSince ?? from, true, null, "down before the window", []);
            }

            return open;
        }

        public void Initialize(DateTimeOffset from)
        {
            ObserveVrrp(from);
            ObserveCapacity(from);
        }
    }
}
