using System.Globalization;
using LvsEvents.Contracts;

namespace LvsEvents.Recovery.Policy;

/// <summary>
/// Canary (gray) releases, one per virtual service, as a state machine. Pure: events and the current time in, the
/// decisions, commands and status events to emit out (ids preset). Not thread safe: one caller at a time.
/// <list type="bullet">
/// <item>Start (<c>command.canary-start</c>): the new server must be a configured real server of the service, with other
/// servers of positive weight. Each step sets the new server's weight so that it has the step's share of the service's
/// total weight (<see cref="CanaryWeights"/>), the old servers scaled alike; one step per interval; at 100 % (old servers
/// at 0) it waits one more interval, then completes (draining the old servers if asked).</item>
/// <item>Watch: the new server's health going down, or its failed probes within the current step exceeding the maximum
/// error rate, roll back at once: the new server to weight 0, the old servers restored to their configuration. So does
/// the kernel (<c>kernel.statistics</c> of any director: only the VIP's owner sees traffic): once it sent the new server
/// at least <see cref="CanaryOptions.MinimumConnections"/> new connections within the step, a share of them left
/// unanswered above the maximum error rate. Each step's decision says what share of the service's new connections the
/// kernel gave the new server during the step before, against the share of the weight.</item>
/// <item>Control: status, pause (no further steps, still watched), resume (next step an interval later), abort.</item>
/// <item>Idempotent: a command or health change seen before changes nothing.</item>
/// </list>
/// </summary>
public sealed class CanaryPolicy
{
    public const string Policy = "canary";
    private const int RememberedIds = 10_000;

    private readonly CanaryOptions _options;
    private readonly string _nodeId;
    private readonly Func<VirtualServiceRef, IReadOnlyDictionary<RealServerRef, int>?> _configured;
    private readonly Dictionary<VirtualServiceRef, CanaryRecord> _canaries = [];
    private readonly HashSet<Guid> _seen = [];
    private readonly Queue<Guid> _seenOrder = new();
    // Statistics polls are remembered apart and not saved: one per poll per director would crowd the saved ids out.
    private readonly HashSet<Guid> _seenPolls = [];
    private readonly Queue<Guid> _seenPollOrder = new();

    /// <param name="configured">The configured weights of a virtual service's real servers (normalized names), null if it is not configured.</param>
    public CanaryPolicy(CanaryOptions options, string nodeId, Func<VirtualServiceRef, IReadOnlyDictionary<RealServerRef, int>?> configured)
    {
        _options = options;
        _nodeId = nodeId;
        _configured = configured;
    }

    /// <summary>Goes up whenever the state changes (worth saving).</summary>
    public long Version { get; private set; }

    /// <summary>True while some canary runs or is paused: only then are health events worth reading.</summary>
    public bool Watching => _canaries.Values.Any(c => c.State is CanaryState.Running or CanaryState.Paused);

    /// <summary>Whether the real server is the new server of a running or paused canary.</summary>
    public bool Watches(RealServerRef server)
    {
        var normalized = RealServerNames.Normalize(server);
        return _canaries.TryGetValue(normalized.VirtualService, out var c) && c.Server == normalized && c.State is CanaryState.Running or CanaryState.Paused;
    }

    public CanaryRecord? Get(VirtualServiceRef service) => _canaries.GetValueOrDefault(RealServerNames.Normalize(service));

    public CanaryPolicyState Export() => new([.. _canaries.Values], [.. _seenOrder]);

    public void Import(CanaryPolicyState state)
    {
        foreach (var id in state.Seen)
        {
            Remember(id);
        }

        foreach (var canary in state.Canaries)
        {
            _canaries[canary.Server.VirtualService] = canary;
        }
    }

    /// <summary>Feeds one event; returns what to emit, in order.</summary>
    public IReadOnlyList<LvsEvent> Handle(LvsEvent e, DateTimeOffset now)
    {
        // Probes are not remembered: one a second would crowd the saved ids out, and a redelivered probe only counts twice.
        if (e.EventId != Guid.Empty && e is not ProbeCompleted && !(e is KernelStatisticsReported ? RememberPoll(e.EventId) : Remember(e.EventId)))
        {
            return [];
        }

        var output = new List<LvsEvent>();
        switch (e)
        {
            case CanaryStartCommand start:
                Start(start, now, output);
                break;
            case CanaryControlCommand control:
                Control(control, now, output);
                break;
            case ProbeCompleted probe when Active(probe.RealServer) is { } c:
                Probe(c, probe, now, output);
                break;
            case RealServerHealthChanged { To: HealthState.Down } change when Active(change.RealServer) is { } c:
                Rollback(c, RecoveryAction.CanaryRolledBack, change.EventId, AlertSeverity.Warning,
                    $"{c.Server} went down ({change.Checker}{(change.Reason is null ? "" : ": " + change.Reason)}) at {Percent(c)}: rolled back", now, output);
                break;
            case KernelStatisticsReported statistics:
                foreach (var c in _canaries.Values.Where(c => c.State is CanaryState.Running or CanaryState.Paused).ToList())
                {
                    Kernel(c, statistics, now, output);
                }

                break;
            case VirtualServiceHealthSnapshot snapshot:
                if (_canaries.GetValueOrDefault(RealServerNames.Normalize(snapshot.VirtualService)) is { State: CanaryState.Running or CanaryState.Paused } watched
                    && snapshot.RealServers.Any(entry => entry.State == HealthState.Down && RealServerNames.FromEntry(watched.Server.VirtualService, entry.Endpoint) == watched.Server))
                {
                    // A down this service missed (bus away): the snapshot says it happened.
                    Rollback(watched, RecoveryAction.CanaryRolledBack, snapshot.EventId, AlertSeverity.Warning,
                        $"{watched.Server} is down in the health snapshot at {Percent(watched)}: rolled back", now, output);
                }

                break;
        }

        output.AddRange(Tick(now));
        return output;
    }

    /// <summary>Due steps and completions at <paramref name="now"/>: one step per canary per call at most.</summary>
    public IReadOnlyList<LvsEvent> Tick(DateTimeOffset now)
    {
        var output = new List<LvsEvent>();
        foreach (var c in _canaries.Values.Where(c => c.State == CanaryState.Running && c.NextStepAt <= now).ToList())
        {
            if (c.Step == c.Steps.Count - 1)
            {
                Complete(c, now, output);
            }
            else
            {
                Apply(c with { Step = c.Step + 1 }, RecoveryAction.CanaryStep, c.Id, now, output);
            }
        }

        return output;
    }

    /// <summary>The earliest time a step becomes due.</summary>
    public DateTimeOffset? NextDue() => _canaries.Values.Where(c => c.State == CanaryState.Running).Min(c => c.NextStepAt);

    /// <summary>The status event of a canary (or of none), as a reply or after a change.</summary>
    public CanaryStatus Status(VirtualServiceRef service, DateTimeOffset now, Guid? causation = null, string? reason = null)
    {
        var c = Get(service);
        return new CanaryStatus
        {
            EventId = Guid.CreateVersion7(now), OccurredAt = now, CorrelationId = c?.Id ?? causation ?? Guid.Empty, CausationId = causation,
            VirtualService = c?.Server.VirtualService ?? RealServerNames.Normalize(service), Server = c?.Server,
            State = c?.State ?? CanaryState.None, Steps = c?.Steps ?? [], Step = c?.Step ?? -1, Share = c?.Share ?? 0,
            Weights = c?.Weights ?? [], Probes = c?.Probes ?? 0, FailedProbes = c?.FailedProbes ?? 0,
            ErrorRate = c is { Probes: > 0 } ? c.FailedProbes / (double)c.Probes : null, MaxErrorRate = c?.MaxErrorRate ?? 0,
            NextStepAt = c?.State == CanaryState.Running ? c.NextStepAt : null,
            Reason = reason ?? c?.Reason ?? (c is null ? $"no canary of {service} on {_nodeId}" : KernelSummary(c, "this step")),
        };
    }

    private CanaryRecord? Active(RealServerRef server) =>
        Watches(server) ? _canaries[RealServerNames.Normalize(server).VirtualService] : null;

    private void Start(CanaryStartCommand start, DateTimeOffset now, List<LvsEvent> output)
    {
        var server = RealServerNames.Normalize(start.Server);
        var service = server.VirtualService;
        var configured = _configured(service);
        var existing = _canaries.GetValueOrDefault(service);
        var refusal =
            !_options.Enabled ? "canary releases are disabled (Recovery:Canary:Enabled)"
            : configured is null ? $"service: {service} is not a virtual_server in this director's configuration"
            : !configured.TryGetValue(server, out _) ? $"server: {server.Address}:{server.Port} is not a real_server of {service} (declare it, with weight 0, so that it is health-checked)"
            : StepsError(start.Steps) is { } steps ? "steps: " + steps
            : start.Interval <= TimeSpan.Zero ? "interval: must be positive"
            : start.MaxErrorRate is < 0 or > 1 || double.IsNaN(start.MaxErrorRate) ? "max-error-rate: must be within 0..1"
            : configured.Where(p => p.Key != server).Sum(p => (long)Math.Max(p.Value, 0)) <= 0 ? $"service: {service} has no other real server with a weight to share traffic with"
            : existing is { State: CanaryState.Running or CanaryState.Paused } ? $"service: a canary of {existing.Server} is {existing.State.ToString().ToLowerInvariant()} (abort it first)"
            : null;
        var subject = start.Server;
        if (refusal is not null)
        {
            output.Add(Decision(RecoveryAction.CanaryRejected, subject, start.EventId, start.EventId, $"canary of {subject} refused: {refusal}", null, AlertSeverity.Warning, now));
            output.Add(new CanaryStatus
            {
                EventId = Guid.CreateVersion7(now), OccurredAt = now, CorrelationId = start.EventId, CausationId = start.EventId,
                VirtualService = service, Server = subject, State = CanaryState.Rejected, Steps = start.Steps, MaxErrorRate = start.MaxErrorRate,
                Reason = "refused: " + refusal,
            });
            return;
        }

        var canary = new CanaryRecord(
            start.EventId, server, [.. start.Steps], start.Interval, start.MaxErrorRate, start.RemoveOld,
            [.. configured!.Where(p => p.Key != server).OrderBy(p => p.Key.ToString(), StringComparer.Ordinal).Select(p => new CanaryWeight(p.Key, p.Value))], configured![server],
            CanaryState.Running, -1, now, 0, 0, 0, [], $"started by {start.RequestedBy}", start.RequestedBy);
        Apply(canary with { Step = 0 }, RecoveryAction.CanaryStarted, start.EventId, now, output);
    }

    private void Control(CanaryControlCommand control, DateTimeOffset now, List<LvsEvent> output)
    {
        var service = RealServerNames.Normalize(control.VirtualService);
        var c = _canaries.GetValueOrDefault(service);
        string? refusal = null;
        switch (control.Action, c?.State)
        {
            case (CanaryControl.Status, _):
                break;
            case (CanaryControl.Pause, CanaryState.Running):
                Set(c! with { State = CanaryState.Paused, Reason = $"paused by {control.RequestedBy}" });
                output.Add(Decision(RecoveryAction.CanaryPaused, c!.Server, c.Id, control.EventId, $"canary of {c.Server} paused at {Percent(c)} by {control.RequestedBy}", null, null, now));
                break;
            case (CanaryControl.Resume, CanaryState.Paused):
                Set(c! with { State = CanaryState.Running, NextStepAt = now + c!.Interval, Reason = $"resumed by {control.RequestedBy}" });
                output.Add(Decision(RecoveryAction.CanaryResumed, c.Server, c.Id, control.EventId, $"canary of {c.Server} resumed at {Percent(c)} by {control.RequestedBy}: next step in {c.Interval:g}", null, null, now));
                break;
            case (CanaryControl.Abort, CanaryState.Running or CanaryState.Paused):
                Rollback(c!, RecoveryAction.CanaryAborted, control.EventId, AlertSeverity.Info, $"aborted by {control.RequestedBy} at {Percent(c!)}: rolled back", now, output);
                break;
            default:
                refusal = c is null ? null : $"cannot {control.Action.ToString().ToLowerInvariant()}: the canary of {c.Server} is {c.State}";
                break;
        }

        // The answer the sender waits for: caused by its command.
        output.Add(Status(service, now, control.EventId, refusal));
    }

    private void Probe(CanaryRecord c, ProbeCompleted probe, DateTimeOffset now, List<LvsEvent> output)
    {
        var counted = c with { Probes = c.Probes + 1, FailedProbes = c.FailedProbes + (probe.Success ? 0 : 1) };
        Set(counted);
        var rate = counted.FailedProbes / (double)counted.Probes;
        if (rate > c.MaxErrorRate)
        {
            Rollback(counted, RecoveryAction.CanaryRolledBack, probe.EventId, AlertSeverity.Warning,
                string.Create(CultureInfo.InvariantCulture,
                    $"{c.Server} failed {counted.FailedProbes} of {counted.Probes} probes at {Percent(c)} ({rate * 100:0.0}% > max {c.MaxErrorRate * 100:0.0}%; last: {probe.Error}{(probe.Detail is null ? "" : " " + probe.Detail)}): rolled back"),
                now, output);
        }
    }

    /// <summary>
    /// Adds one statistics poll to the step's counts: the service's new connections, the new server's, and those of the
    /// new server left unanswered (null where the backend cannot tell: IPVS, UDP). A poll whose interval began before the step
    /// started counted traffic at the old weights: left out.
    /// </summary>
    private void Kernel(CanaryRecord c, KernelStatisticsReported statistics, DateTimeOffset now, List<LvsEvent> output)
    {
        if (statistics.Interval <= TimeSpan.Zero || statistics.OccurredAt - statistics.Interval < c.StepStartedAt
            || statistics.Services.FirstOrDefault(s => RealServerNames.Normalize(s.VirtualService) == c.Server.VirtualService) is not { } traffic)
        {
            return;
        }

        long service = 0;
        DestinationTraffic? server = null;
        foreach (var d in traffic.RealServers)
        {
            service += d.NewConnections ?? 0;
            if (d.Port == c.Server.Port && RealServerNames.Address(d.Address) == c.Server.Address)
            {
                server = d;
            }
        }

        if (server is null || (service == 0 && server.UnansweredConnections is null or 0))
        {
            return;
        }

        var counted = c with
        {
            KernelServiceConnections = c.KernelServiceConnections + service,
            KernelConnections = c.KernelConnections + (server.NewConnections ?? 0),
            KernelUnanswered = server.UnansweredConnections is { } u ? (c.KernelUnanswered ?? 0) + u : c.KernelUnanswered,
        };
        Set(counted);
        if (counted.KernelUnanswered is not { } unanswered || counted.KernelConnections < _options.MinimumConnections)
        {
            return;
        }

        // Judged a poll after they were new: a few may be the previous step's; never more than this step's new ones.
        var left = Math.Min(unanswered, counted.KernelConnections);
        var rate = left / (double)counted.KernelConnections;
        if (rate > c.MaxErrorRate)
        {
            Rollback(counted, RecoveryAction.CanaryRolledBack, statistics.EventId, AlertSeverity.Warning,
                string.Create(CultureInfo.InvariantCulture,
                    $"{c.Server.Address}:{c.Server.Port} left {left} of {counted.KernelConnections} new connections unanswered at the {Percent(c)} step ({rate * 100:0.0}% > max {c.MaxErrorRate * 100:0.0}%; kernel.statistics of {statistics.NodeId}): rolled back"),
                now, output);
        }
    }

    /// <summary>What the kernel did with the canary's traffic during its current step (<paramref name="when"/>), or null before any connection.</summary>
    private static string? KernelSummary(CanaryRecord c, string when) => c.KernelServiceConnections <= 0 || c.Step < 0
        ? null
        : string.Create(CultureInfo.InvariantCulture,
            $"kernel {when}: {c.Server.Address}:{c.Server.Port} got {c.KernelConnections} of {c.KernelServiceConnections} new connections ({c.KernelConnections * 100.0 / c.KernelServiceConnections:0.0}%; weight share {c.Share * 100:0.0}%){(c.KernelUnanswered is { } u ? $", {u} unanswered" : "")}");

    /// <summary>Sets the weights of the canary's current step and starts its interval.</summary>
    private void Apply(CanaryRecord c, RecoveryAction action, Guid cause, DateTimeOffset now, List<LvsEvent> output)
    {
        var percent = c.Steps[c.Step];
        var plan = CanaryWeights.For(percent, c.OldWeights.ToDictionary(w => w.Server, w => w.Weight), c.NewConfigured);
        List<CanaryWeight> weights = [new(c.Server, plan.NewWeight), .. plan.OldWeights.OrderBy(p => p.Key.ToString(), StringComparer.Ordinal).Select(p => new CanaryWeight(p.Key, p.Value))];
        // The step before, as the kernel saw it (its counts and share are still on the record).
        var before = c.Step > 0 ? KernelSummary(c with { Step = c.Step - 1 }, $"at {c.Steps[c.Step - 1]}%") : null;
        var applied = c with
        {
            State = CanaryState.Running, NextStepAt = now + c.Interval, StepStartedAt = now, Probes = 0, FailedProbes = 0,
            Share = plan.Share, Weights = weights, Reason = null, KernelConnections = 0, KernelServiceConnections = 0, KernelUnanswered = null,
        };
        Set(applied);
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"canary step {c.Step + 1}/{c.Steps.Count}: {c.Server} at {percent}% of the service's weight ({plan.Share * 100:0.0}%): {string.Join(", ", weights.Select(w => $"{w.Server.Address}:{w.Server.Port}={w.Weight}"))}{(before is null ? "" : "; " + before)}");
        var decision = Decision(action, c.Server, c.Id, cause, reason, plan.NewWeight, null, now);
        output.Add(decision);
        foreach (var w in weights)
        {
            output.Add(Command(new SetWeightCommand { RealServer = w.Server, Weight = w.Weight, Cause = WeightChangeCause.Recovery, RequestedBy = RequestedBy(c), Reason = reason }, c, decision, now));
        }

        output.Add(Status(c.Server.VirtualService, now, decision.EventId));
    }

    private void Complete(CanaryRecord c, DateTimeOffset now, List<LvsEvent> output)
    {
        var done = c with { State = CanaryState.Completed, NextStepAt = now };
        var reason = $"canary of {c.Server} complete: 100% held for {c.Interval:g}" +
            (c.RemoveOld ? $"; old servers drained ({string.Join(", ", c.OldWeights.Select(w => $"{w.Server.Address}:{w.Server.Port}"))})" : "; old servers left at weight 0") +
            (KernelSummary(c, "at 100%") is { } kernel ? "; " + kernel : "");
        Set(done with { Reason = reason });
        var decision = Decision(RecoveryAction.CanaryCompleted, c.Server, c.Id, c.Id, reason, c.Weights.FirstOrDefault()?.Weight, AlertSeverity.Info, now);
        output.Add(decision);
        if (c.RemoveOld)
        {
            foreach (var old in c.OldWeights)
            {
                output.Add(Command(new DrainCommand { RealServer = old.Server, Timeout = _options.DrainTimeout, RequestedBy = RequestedBy(c), Reason = reason }, c, decision, now));
            }
        }

        output.Add(Status(c.Server.VirtualService, now, decision.EventId));
    }

    private void Rollback(CanaryRecord c, RecoveryAction action, Guid cause, AlertSeverity alert, string reason, DateTimeOffset now, List<LvsEvent> output)
    {
        var state = action == RecoveryAction.CanaryAborted ? CanaryState.Aborted : CanaryState.RolledBack;
        Set(c with
        {
            State = state, NextStepAt = now, Share = 0, Reason = reason,
            Weights = [new(c.Server, 0), .. c.OldWeights],
        });
        var decision = Decision(action, c.Server, c.Id, cause, reason, 0, alert, now);
        output.Add(decision);
        output.Add(Command(new SetWeightCommand { RealServer = c.Server, Weight = 0, Cause = WeightChangeCause.Recovery, RequestedBy = RequestedBy(c), Reason = reason }, c, decision, now));
        foreach (var old in c.OldWeights)
        {
            // Restore, not the remembered weight: configuration (and health) decide again, as before the canary.
            output.Add(Command(new RestoreCommand { RealServer = old.Server, RequestedBy = RequestedBy(c), Reason = reason }, c, decision, now));
        }

        output.Add(Status(c.Server.VirtualService, now, decision.EventId));
    }

    private void Set(CanaryRecord c)
    {
        _canaries[c.Server.VirtualService] = c;
        Version++;
    }

    private static string Percent(CanaryRecord c) => c.Step >= 0 ? $"{c.Steps[c.Step]}%" : "the start";

    private static string RequestedBy(CanaryRecord c) => $"canary:{c.Id}";

    /// <summary>Why a step list is unusable, or null: percentages 1..100, ascending, the last 100.</summary>
    public static string? StepsError(IReadOnlyList<int>? steps) =>
        steps is null || steps.Count == 0 ? "empty"
        : steps.Any(s => s is < 1 or > 100) ? $"'{string.Join(',', steps)}' has a percentage outside 1..100"
        : steps.Zip(steps.Skip(1)).Any(p => p.First >= p.Second) ? $"'{string.Join(',', steps)}' must ascend"
        : steps[^1] != 100 ? $"'{string.Join(',', steps)}' must end at 100"
        : null;

    private static RecoveryDecision Decision(RecoveryAction action, RealServerRef server, Guid correlation, Guid cause, string reason, int? weight, AlertSeverity? alert, DateTimeOffset now) => new()
    {
        EventId = Guid.CreateVersion7(now), OccurredAt = now, CorrelationId = correlation, CausationId = cause,
        Policy = Policy, Action = action, Subject = server.ToString(), RealServer = server, Reason = reason,
        CausingEvents = cause == correlation ? [cause] : [correlation, cause], Weight = weight, Alert = alert,
    };

    private static LvsEvent Command(LvsCommand command, CanaryRecord c, RecoveryDecision decision, DateTimeOffset now) =>
        command with { EventId = Guid.CreateVersion7(now), OccurredAt = now, CorrelationId = c.Id, CausationId = decision.EventId };

    private bool RememberPoll(Guid id)
    {
        if (!_seenPolls.Add(id))
        {
            return false;
        }

        _seenPollOrder.Enqueue(id);
        if (_seenPollOrder.Count > 1000)
        {
            _seenPolls.Remove(_seenPollOrder.Dequeue());
        }

        return true;
    }

    private bool Remember(Guid id)
    {
        if (!_seen.Add(id))
        {
            return false;
        }

        _seenOrder.Enqueue(id);
        if (_seenOrder.Count > RememberedIds)
        {
            _seen.Remove(_seenOrder.Dequeue());
        }

        return true;
    }
}

/// <summary>One canary, as the policy keeps it and saves it across restarts.</summary>
/// <param name="Id">The start command's event id: the correlation id of everything the canary does.</param>
/// <param name="OldWeights">The configured weights of the other servers at the start (a list: JSON has no object keys of this type).</param>
/// <param name="Step">Index into <paramref name="Steps"/> of the step applied.</param>
/// <param name="NextStepAt">When the next step (or the completion) is due while running.</param>
public sealed record CanaryRecord(
    Guid Id,
    RealServerRef Server,
    IReadOnlyList<int> Steps,
    TimeSpan Interval,
    double MaxErrorRate,
    bool RemoveOld,
    IReadOnlyList<CanaryWeight> OldWeights,
    int NewConfigured,
    CanaryState State,
    int Step,
    DateTimeOffset NextStepAt,
    int Probes,
    int FailedProbes,
    double Share,
    IReadOnlyList<CanaryWeight> Weights,
    string? Reason,
    string RequestedBy)
{
    public DateTimeOffset StepStartedAt { get; init; }

    /// <summary>New connections of the whole service within the current step, as the kernel statistics counted them.</summary>
    public long KernelServiceConnections { get; init; }

    /// <summary>New connections the kernel sent the new server within the current step.</summary>
    public long KernelConnections { get; init; }

    /// <summary>Of the new server's connections, those left unanswered within the current step; null while no statistics could tell (IPVS).</summary>
    public long? KernelUnanswered { get; init; }
}

/// <summary>What <see cref="CanaryPolicy"/> saves across restarts.</summary>
public sealed record CanaryPolicyState(IReadOnlyList<CanaryRecord> Canaries, IReadOnlyList<Guid> Seen);
