using LvsEvents.Contracts;

namespace LvsEvents.Recovery.Policy;

/// <summary>
/// Slow start and flap hold for real servers. Pure: events and the current time in, the decisions and commands to emit
/// out (ids preset, so the caller emits them as they are). Not thread safe: one caller at a time.
/// <list type="bullet">
/// <item>Slow start: Down→Up starts a ramp of <c>command.set-weight</c> (cause Recovery) through the configured percentages
/// of the configured weight, one step per interval; the 100 % step is a <c>command.restore</c>, which hands the server back to
/// configuration and health. A new Down cancels the ramp.</item>
/// <item>Flap hold: N transitions within the window hold the server out at weight 0 until it stayed up for the stability
/// period, then it is released into a ramp. The hold decision carries an alert severity.</item>
/// <item>Idempotent: an event id seen before changes nothing.</item>
/// </list>
/// </summary>
public sealed class SelfHealingPolicy
{
    public const string SlowStart = "slow-start";
    public const string FlapHold = "flap-hold";
    private const int RememberedIds = 100_000;
    private const int RememberedIdsSaved = 10_000;

    private readonly RecoveryOptions _options;
    private readonly IReadOnlyList<int> _steps;
    private readonly Func<RealServerRef, int?> _configuredWeight;
    private readonly Dictionary<RealServerRef, ServerState> _servers = [];
    private readonly HashSet<Guid> _seen = [];
    private readonly Queue<Guid> _seenOrder = new();

    /// <param name="configuredWeight">The configured weight of a real server (normalized name), null if it is not configured.</param>
    public SelfHealingPolicy(RecoveryOptions options, Func<RealServerRef, int?> configuredWeight)
    {
        _options = options;
        _steps = options.SlowStart.ParsedSteps();
        _configuredWeight = configuredWeight;
    }

    /// <summary>Goes up whenever the state changes (worth saving); duplicate and irrelevant events leave it.</summary>
    public long Version { get; private set; }

    /// <summary>What the policy knows of a real server, for status and tests.</summary>
    public ServerView? View(RealServerRef server) =>
        _servers.TryGetValue(RealServerNames.Normalize(server), out var s)
            ? new ServerView(s.Health, s.Ramp is { } r ? r.Step : null, s.Held, s.Transitions.Count)
            : null;

    /// <summary>Everything the policy remembers, to be saved and given back to <see cref="Import"/> after a restart.</summary>
    public SelfHealingState Export() => new(
        [.. _servers.Select(p => new ServerRecord(
            p.Key, p.Value.Health, [.. p.Value.Transitions.Select(t => new TransitionRecord(t.At, t.EventId))],
            p.Value.Ramp is { } r ? new RampRecord(r.Cause, r.Step, r.Full, r.NextAt) : null,
            p.Value.Held, p.Value.HoldCause, p.Value.UpSince))],
        [.. _seenOrder.TakeLast(RememberedIdsSaved)]);

    /// <summary>Takes back what <see cref="Export"/> saved (into a fresh policy). A ramp beyond the current steps resumes at the last step below 100 %.</summary>
    public void Import(SelfHealingState state)
    {
        foreach (var id in state.Seen)
        {
            Remember(id);
        }

        foreach (var record in state.Servers)
        {
            var server = Get(RealServerNames.Normalize(record.Server));
            server.Health = record.Health;
            foreach (var t in record.Transitions)
            {
                server.Transitions.Enqueue((t.At, t.EventId));
            }

            server.Ramp = record.Ramp is { } r && _steps.Count > 1 ? new Ramp(r.Cause, Math.Min(r.Step, _steps.Count - 2), r.Full, r.NextAt) : null;
            server.Held = record.Held;
            server.HoldCause = record.HoldCause;
            server.UpSince = record.UpSince;
        }
    }

    /// <summary>Feeds one event; returns what to emit, in order.</summary>
    public IReadOnlyList<LvsEvent> Handle(LvsEvent e, DateTimeOffset now)
    {
        if (e.EventId != Guid.Empty && !Remember(e.EventId))
        {
            return [];
        }

        var output = new List<LvsEvent>();
        switch (e)
        {
            case RealServerHealthChanged change when change.From != change.To:
                Transition(RealServerNames.Normalize(change.RealServer), change.From, change.To, e, now, output);
                break;
            case VirtualServiceHealthSnapshot snapshot:
                var service = RealServerNames.Normalize(snapshot.VirtualService);
                foreach (var entry in snapshot.RealServers)
                {
                    if (RealServerNames.FromEntry(service, entry.Endpoint) is not { } server || entry.State == HealthState.Unknown)
                    {
                        continue;
                    }

                    var known = _servers.TryGetValue(server, out var state) ? state.Health : HealthState.Unknown;
                    if (known == HealthState.Unknown)
                    {
                        // What a (re)started service learns: the state, no transition.
                        Get(server).Health = entry.State;
                        Version++;
                    }
                    else if (known != entry.State)
                    {
                        // A health change this service missed (bus away): the snapshot says it happened.
                        Transition(server, known, entry.State, e, now, output);
                    }
                }

                break;
        }

        output.AddRange(Tick(now));
        return output;
    }

    /// <summary>Due ramp steps and hold releases at <paramref name="now"/>.</summary>
    public IReadOnlyList<LvsEvent> Tick(DateTimeOffset now)
    {
        var output = new List<LvsEvent>();
        Version += TickServers(now, output);
        return output;
    }

    private int TickServers(DateTimeOffset now, List<LvsEvent> output)
    {
        var changes = 0;
        foreach (var (server, state) in _servers)
        {
            if (state.Held)
            {
                if (state.Health == HealthState.Up && state.UpSince is { } since && now - since >= _options.FlapHold.Stability)
                {
                    changes++;
                    state.Held = false;
                    state.Transitions.Clear();
                    var release = Decision(FlapHold, RecoveryAction.Released, server, state.HoldCause!.Value,
                        $"up for {now - since:g} (stability period {_options.FlapHold.Stability:g}): released into slow start", [state.HoldCause!.Value], null, now, AlertSeverity.Info);
                    output.Add(release);
                    StartRamp(server, state, state.HoldCause!.Value, now, output, release);
                    state.HoldCause = null;
                }

                continue;
            }

            // One step per tick at most, the next one an interval later: a late tick delays the ramp, never skips a step.
            if (state.Ramp is { } ramp && ramp.NextAt <= now)
            {
                changes++;
                var step = ramp.Step + 1;
                var at = now;
                if (step == _steps.Count - 1)
                {
                    state.Ramp = null;
                    var done = Decision(SlowStart, RecoveryAction.RampCompleted, server, ramp.Cause,
                        $"slow start complete: {_steps[step]}% of weight {ramp.Full}, handed back to configuration", [ramp.Cause], ramp.Full, at);
                    output.Add(done);
                    output.Add(Caused(new RestoreCommand { RealServer = server, RequestedBy = _options.RequestedBy, Reason = done.Reason }, done, ramp.Cause, at));
                }
                else
                {
                    state.Ramp = ramp with { Step = step, NextAt = now + _options.SlowStart.Interval };
                    output.AddRange(RampCommand(server, ramp.Cause, step, ramp.Full, RecoveryAction.RampStep, at));
                }
            }
        }

        return changes;
    }

    /// <summary>The earliest time something becomes due, if anything is pending.</summary>
    public DateTimeOffset? NextDue() =>
        _servers.Values.Select(s => s.Held
                ? s.Health == HealthState.Up && s.UpSince is { } since ? since + _options.FlapHold.Stability : (DateTimeOffset?)null
                : s.Ramp?.NextAt)
            .Where(t => t is not null)
            .Min();

    private void Transition(RealServerRef server, HealthState from, HealthState to, LvsEvent cause, DateTimeOffset now, List<LvsEvent> output)
    {
        var state = Get(server);
        state.Health = to;
        Version++;
        var at = cause.OccurredAt == default ? now : cause.OccurredAt;
        var id = cause.EventId;

        if (_options.FlapHold.Enabled)
        {
            state.Transitions.Enqueue((at, id));
            while (state.Transitions.Count > 0 && at - state.Transitions.Peek().At > _options.FlapHold.Window)
            {
                state.Transitions.Dequeue();
            }
        }

        if (state.Held)
        {
            state.UpSince = to == HealthState.Up ? at : null;
            return;
        }

        if (_options.FlapHold.Enabled && state.Transitions.Count >= _options.FlapHold.Transitions)
        {
            state.Held = true;
            state.HoldCause = id;
            state.UpSince = to == HealthState.Up ? at : null;
            state.Ramp = null;
            var hold = Decision(FlapHold, RecoveryAction.HeldOut, server, id,
                $"{state.Transitions.Count} health transitions within {_options.FlapHold.Window:g}: held out at weight 0 until up for {_options.FlapHold.Stability:g}",
                [.. state.Transitions.Select(t => t.EventId)], 0, now, AlertSeverity.Warning);
            output.Add(hold);
            output.Add(Caused(new SetWeightCommand { RealServer = server, Weight = 0, Cause = WeightChangeCause.Recovery, RequestedBy = _options.RequestedBy, Reason = hold.Reason }, hold, id, now));
            return;
        }

        if (!_options.SlowStart.Enabled)
        {
            return;
        }

        if (to == HealthState.Down)
        {
            if (state.Ramp is { } ramp)
            {
                state.Ramp = null;
                output.Add(Decision(SlowStart, RecoveryAction.RampCancelled, server, id,
                    $"down again at step {_steps[ramp.Step]}% of the ramp", [ramp.Cause, id], null, now));
            }

            if (_options.SlowStart.PrimeOnDown && _configuredWeight(server) is { } full)
            {
                // Not a decision of its own: the first step of the next ramp, set while the server is out anyway.
                var weight = StepWeight(0, full);
                output.Add(Caused(new SetWeightCommand
                {
                    RealServer = server, Weight = weight, Cause = WeightChangeCause.Recovery, RequestedBy = _options.RequestedBy,
                    Reason = $"slow start primed: back at {_steps[0]}% ({weight}) when it recovers",
                }, null, id, now));
            }
        }
        else if (to == HealthState.Up && from == HealthState.Down)
        {
            StartRamp(server, state, id, now, output, null);
        }
    }

    private void StartRamp(RealServerRef server, ServerState state, Guid cause, DateTimeOffset now, List<LvsEvent> output, RecoveryDecision? after)
    {
        if (!_options.SlowStart.Enabled || _configuredWeight(server) is not { } full)
        {
            // Not configured here (or slow start off): nothing to ramp to; hand it back as it is.
            if (after is not null)
            {
                output.Add(Caused(new RestoreCommand { RealServer = server, RequestedBy = _options.RequestedBy, Reason = after.Reason }, after, cause, now));
            }

            return;
        }

        if (_steps.Count == 1)
        {
            var done = Decision(SlowStart, RecoveryAction.RampCompleted, server, cause, "slow start has one step (100%): full weight now", [cause], full, now);
            output.Add(done);
            output.Add(Caused(new RestoreCommand { RealServer = server, RequestedBy = _options.RequestedBy, Reason = done.Reason }, done, cause, now));
            return;
        }

        state.Ramp = new Ramp(cause, 0, full, now + _options.SlowStart.Interval);
        output.AddRange(RampCommand(server, cause, 0, full, RecoveryAction.RampStarted, now));
    }

    private IEnumerable<LvsEvent> RampCommand(RealServerRef server, Guid cause, int step, int full, RecoveryAction action, DateTimeOffset at)
    {
        var weight = StepWeight(step, full);
        var decision = Decision(SlowStart, action, server, cause,
            $"slow start step {step + 1}/{_steps.Count}: {_steps[step]}% of weight {full} = {weight}", [cause], weight, at);
        yield return decision;
        yield return Caused(new SetWeightCommand { RealServer = server, Weight = weight, Cause = WeightChangeCause.Recovery, RequestedBy = _options.RequestedBy, Reason = decision.Reason }, decision, cause, at);
    }

    /// <summary>The weight of a step: a percentage of the full weight, at least 1 (a weight-0 server gets no traffic at all).</summary>
    private int StepWeight(int step, int full) =>
        full <= 0 ? 0 : (int)Math.Clamp(Math.Round(full * (long)_steps[step] / 100.0, MidpointRounding.AwayFromZero), 1, full);

    private static RecoveryDecision Decision(string policy, RecoveryAction action, RealServerRef server, Guid cause, string reason,
        IReadOnlyList<Guid> causing, int? weight, DateTimeOffset at, AlertSeverity? alert = null) => new()
        {
            EventId = Guid.CreateVersion7(at),
            OccurredAt = at,
            CorrelationId = cause,
            CausationId = cause,
            Policy = policy,
            Action = action,
            Subject = server.ToString(),
            RealServer = server,
            Reason = reason,
            CausingEvents = causing,
            Weight = weight,
            Alert = alert,
        };

    /// <summary>A command with the correlation of the event behind it and, as causation, the decision (or that event).</summary>
    private static LvsEvent Caused(LvsCommand command, RecoveryDecision? decision, Guid cause, DateTimeOffset at) => command with
    {
        EventId = Guid.CreateVersion7(at),
        OccurredAt = at,
        CorrelationId = cause,
        CausationId = decision?.EventId ?? cause,
    };

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

    private ServerState Get(RealServerRef server)
    {
        if (!_servers.TryGetValue(server, out var state))
        {
            _servers[server] = state = new ServerState();
        }

        return state;
    }

    private sealed class ServerState
    {
        public HealthState Health { get; set; }
        public Queue<(DateTimeOffset At, Guid EventId)> Transitions { get; } = new();
        public Ramp? Ramp { get; set; }
        public bool Held { get; set; }
        public Guid? HoldCause { get; set; }
        public DateTimeOffset? UpSince { get; set; }
    }

    private sealed record Ramp(Guid Cause, int Step, int Full, DateTimeOffset NextAt);
}

/// <summary>What <see cref="SelfHealingPolicy"/> remembers, as saved across restarts.</summary>
public sealed record SelfHealingState(IReadOnlyList<ServerRecord> Servers, IReadOnlyList<Guid> Seen);

public sealed record ServerRecord(RealServerRef Server, HealthState Health, IReadOnlyList<TransitionRecord> Transitions, RampRecord? Ramp, bool Held, Guid? HoldCause, DateTimeOffset? UpSince);

public sealed record TransitionRecord(DateTimeOffset At, Guid EventId);

public sealed record RampRecord(Guid Cause, int Step, int Full, DateTimeOffset NextAt);

/// <summary>The policy's view of one real server.</summary>
/// <param name="RampStep">Index of the current ramp step, null when no ramp runs.</param>
public sealed record ServerView(HealthState Health, int? RampStep, bool Held, int RecentTransitions);
