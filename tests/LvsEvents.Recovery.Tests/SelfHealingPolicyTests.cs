using LvsEvents.Contracts;
using LvsEvents.Recovery.Policy;

namespace LvsEvents.Recovery.Tests;

public sealed class SelfHealingPolicyTests
{
    private static readonly VirtualServiceRef Service = VirtualServiceRef.Tcp("10.0.0.100", 80);
    private static readonly RealServerRef Web1 = new(Service, "10.0.0.21", 8080);
    private static readonly RealServerRef Web2 = new(Service, "10.0.0.22", 8080);
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static RecoveryOptions Options(string steps = "10,25,50,100", int flapTransitions = 4) => new()
    {
        SlowStart = { Steps = steps, Interval = TimeSpan.FromSeconds(30) },
        FlapHold = { Transitions = flapTransitions, Window = TimeSpan.FromMinutes(5), Stability = TimeSpan.FromMinutes(2) },
    };

    private static SelfHealingPolicy Policy(RecoveryOptions? options = null) =>
        new(options ?? Options(), server => server == Web1 ? 20 : server == Web2 ? 7 : null);

    private static RealServerHealthChanged Change(RealServerRef server, HealthState from, HealthState to, DateTimeOffset at) => new()
    {
        EventId = Guid.CreateVersion7(at),
        OccurredAt = at,
        NodeId = "lvs-1",
        Service = "health",
        RealServer = server,
        From = from,
        To = to,
        Checker = "TCP_CHECK",
    };

    /// <summary>Ticks once a second from <paramref name="from"/> to <paramref name="to"/>, as the service's timer does.</summary>
    private static List<LvsEvent> TickThrough(SelfHealingPolicy policy, DateTimeOffset from, DateTimeOffset to)
    {
        var output = new List<LvsEvent>();
        for (var t = from; t <= to; t = t.AddSeconds(1))
        {
            output.AddRange(policy.Tick(t));
        }

        return output;
    }

    private static List<(int Weight, DateTimeOffset At)> Weights(IEnumerable<LvsEvent> events) =>
        [.. events.OfType<SetWeightCommand>().Select(c => (c.Weight, c.OccurredAt))];

    [Fact]
    public void A_recovered_server_ramps_through_the_steps_at_the_interval_and_is_then_restored()
    {
        var policy = Policy();
        var down = Change(Web1, HealthState.Up, HealthState.Down, T0);
        var primed = policy.Handle(down, T0);
        Assert.Equal([(2, T0)], Weights(primed));

        var up = Change(Web1, HealthState.Down, HealthState.Up, T0.AddMinutes(10));
        var output = new List<LvsEvent>(policy.Handle(up, T0.AddMinutes(10)));
        for (var t = T0.AddMinutes(10); t <= T0.AddMinutes(12); t = t.AddSeconds(1))
        {
            output.AddRange(policy.Tick(t));
        }

        var start = T0.AddMinutes(10);
        Assert.Equal([(2, start), (5, start.AddSeconds(30)), (10, start.AddSeconds(60))], Weights(output));
        var restore = Assert.Single(output.OfType<RestoreCommand>());
        Assert.Equal(start.AddSeconds(90), restore.OccurredAt);
        Assert.Equal(
            [RecoveryAction.RampStarted, RecoveryAction.RampStep, RecoveryAction.RampStep, RecoveryAction.RampCompleted],
            output.OfType<RecoveryDecision>().Select(d => d.Action));
        Assert.Null(policy.View(Web1)!.RampStep);
    }

    [Fact]
    public void Every_command_carries_the_health_change_as_correlation_and_its_decision_as_causation()
    {
        var policy = Policy();
        policy.Handle(Change(Web1, HealthState.Up, HealthState.Down, T0), T0);
        var up = Change(Web1, HealthState.Down, HealthState.Up, T0.AddMinutes(1));
        var output = new List<LvsEvent>(policy.Handle(up, T0.AddMinutes(1)));
        output.AddRange(TickThrough(policy, T0.AddMinutes(1), T0.AddMinutes(5)));

        var decisions = output.OfType<RecoveryDecision>().ToDictionary(d => d.EventId);
        var commands = output.OfType<LvsCommand>().ToList();
        Assert.Equal(4, commands.Count);
        Assert.All(output, e => Assert.Equal(up.EventId, e.CorrelationId));
        Assert.All(output, e => Assert.NotEqual(Guid.Empty, e.EventId));
        Assert.Equal(output.Count, output.Select(e => e.EventId).Distinct().Count());
        Assert.All(commands, c =>
        {
            Assert.True(decisions.TryGetValue(c.CausationId!.Value, out var decision), "a command's causation is its decision");
            Assert.Contains(up.EventId, decision.CausingEvents);
            Assert.Equal("recovery", c.RequestedBy);
        });
        Assert.All(output.OfType<SetWeightCommand>(), c => Assert.Equal(WeightChangeCause.Recovery, c.Cause));
    }

    [Fact]
    public void A_late_tick_delays_the_ramp_and_never_skips_a_step()
    {
        var policy = Policy();
        policy.Handle(Change(Web1, HealthState.Up, HealthState.Down, T0), T0);
        policy.Handle(Change(Web1, HealthState.Down, HealthState.Up, T0), T0);
        Assert.Equal([(5, T0.AddMinutes(10))], Weights(policy.Tick(T0.AddMinutes(10))));
        Assert.Empty(policy.Tick(T0.AddMinutes(10).AddSeconds(29)));
        Assert.Equal([(10, T0.AddMinutes(10).AddSeconds(30))], Weights(policy.Tick(T0.AddMinutes(10).AddSeconds(30))));
        Assert.Equal(T0.AddMinutes(11), policy.NextDue());
    }

    [Fact]
    public void A_new_down_cancels_the_ramp()
    {
        var policy = Policy();
        policy.Handle(Change(Web1, HealthState.Up, HealthState.Down, T0), T0);
        policy.Handle(Change(Web1, HealthState.Down, HealthState.Up, T0.AddSeconds(10)), T0.AddSeconds(10));
        Assert.Equal([5], Weights(policy.Tick(T0.AddSeconds(40))).Select(w => w.Weight));
        Assert.Equal(1, policy.View(Web1)!.RampStep);

        var down = policy.Handle(Change(Web1, HealthState.Up, HealthState.Down, T0.AddSeconds(50)), T0.AddSeconds(50));
        var cancelled = Assert.Single(down.OfType<RecoveryDecision>());
        Assert.Equal(RecoveryAction.RampCancelled, cancelled.Action);
        Assert.Null(policy.View(Web1)!.RampStep);
        Assert.Empty(policy.Tick(T0.AddMinutes(3)));
        Assert.Null(policy.NextDue());
    }

    [Fact]
    public void The_same_event_twice_changes_nothing()
    {
        var policy = Policy();
        var down = Change(Web1, HealthState.Up, HealthState.Down, T0);
        var up = Change(Web1, HealthState.Down, HealthState.Up, T0.AddSeconds(5));
        Assert.NotEmpty(policy.Handle(down, T0));
        Assert.Empty(policy.Handle(down, T0.AddSeconds(1)));
        Assert.NotEmpty(policy.Handle(up, T0.AddSeconds(5)));
        Assert.Empty(policy.Handle(up, T0.AddSeconds(6)));
        Assert.Equal(0, policy.View(Web1)!.RampStep);
        Assert.Equal(2, policy.View(Web1)!.RecentTransitions);
    }

    [Fact]
    public void A_flapping_server_is_held_out_with_an_alert_until_it_stays_up_for_the_stability_period()
    {
        var policy = Policy();
        var output = new List<LvsEvent>();
        var states = new[] { HealthState.Up, HealthState.Down, HealthState.Up, HealthState.Down, HealthState.Up };
        for (var i = 1; i < states.Length; i++)
        {
            output.AddRange(policy.Handle(Change(Web1, states[i - 1], states[i], T0.AddSeconds(20 * i)), T0.AddSeconds(20 * i)));
        }

        var hold = Assert.Single(output.OfType<RecoveryDecision>(), d => d.Action == RecoveryAction.HeldOut);
        Assert.Equal(AlertSeverity.Warning, hold.Alert);
        Assert.Equal(SelfHealingPolicy.FlapHold, hold.Policy);
        Assert.Equal(4, hold.CausingEvents.Count);
        var zero = output.OfType<SetWeightCommand>().Last();
        Assert.Equal(0, zero.Weight);
        Assert.Equal(hold.EventId, zero.CausationId);
        Assert.True(policy.View(Web1)!.Held);

        // Up since T0+80s. Down again at +100s: the stability clock restarts at the next up (+130s).
        Assert.Empty(policy.Handle(Change(Web1, HealthState.Up, HealthState.Down, T0.AddSeconds(100)), T0.AddSeconds(100)));
        Assert.Empty(policy.Handle(Change(Web1, HealthState.Down, HealthState.Up, T0.AddSeconds(130)), T0.AddSeconds(130)));
        Assert.Empty(policy.Tick(T0.AddSeconds(130 + 119)));
        Assert.True(policy.View(Web1)!.Held);

        var release = policy.Tick(T0.AddSeconds(130 + 120));
        Assert.Equal([RecoveryAction.Released, RecoveryAction.RampStarted], release.OfType<RecoveryDecision>().Select(d => d.Action));
        Assert.Equal([2], release.OfType<SetWeightCommand>().Select(c => c.Weight));
        Assert.False(policy.View(Web1)!.Held);
        Assert.Equal(0, policy.View(Web1)!.RampStep);
    }

    [Fact]
    public void Transitions_spread_wider_than_the_window_do_not_hold()
    {
        var policy = Policy();
        var states = new[] { HealthState.Up, HealthState.Down, HealthState.Up, HealthState.Down, HealthState.Up, HealthState.Down };
        for (var i = 1; i < states.Length; i++)
        {
            var at = T0.AddMinutes(2 * i);
            Assert.DoesNotContain(policy.Handle(Change(Web1, states[i - 1], states[i], at), at).OfType<RecoveryDecision>(), d => d.Action == RecoveryAction.HeldOut);
        }

        Assert.False(policy.View(Web1)!.Held);
        Assert.Equal(3, policy.View(Web1)!.RecentTransitions);
    }

    [Fact]
    public void A_snapshot_teaches_the_state_without_acting_and_reports_a_missed_recovery()
    {
        var policy = Policy();
        VirtualServiceHealthSnapshot Snapshot(HealthState web1, DateTimeOffset at) => new()
        {
            EventId = Guid.CreateVersion7(at), OccurredAt = at, NodeId = "lvs-1",
            VirtualService = VirtualServiceRef.Tcp("10.0.0.100", 80), SnapshotId = Guid.CreateVersion7(at), VirtualServiceCount = 1,
            QuorumUp = true, LiveWeight = 27, Quorum = 1, Hysteresis = 0,
            RealServers = [new RealServerHealthEntry("10.0.0.21:8080", web1, 20, 0), new RealServerHealthEntry("10.0.0.22:8080", HealthState.Up, 7, 0)],
        };

        Assert.Empty(policy.Handle(Snapshot(HealthState.Down, T0), T0));
        Assert.Equal(HealthState.Down, policy.View(Web1)!.Health);
        Assert.Equal(HealthState.Up, policy.View(Web2)!.Health);

        // The Up health change was missed (bus away); the next snapshot shows it: the ramp starts, caused by the snapshot.
        var later = Snapshot(HealthState.Up, T0.AddMinutes(1));
        var output = policy.Handle(later, T0.AddMinutes(1));
        Assert.Equal([2], output.OfType<SetWeightCommand>().Select(c => c.Weight));
        Assert.All(output, e => Assert.Equal(later.EventId, e.CorrelationId));
    }

    [Fact]
    public void Step_weights_round_and_never_drop_to_zero()
    {
        var policy = Policy(Options(steps: "10,30,50,100"));
        policy.Handle(Change(Web2, HealthState.Up, HealthState.Down, T0), T0);
        var output = new List<LvsEvent>(policy.Handle(Change(Web2, HealthState.Down, HealthState.Up, T0.AddSeconds(1)), T0.AddSeconds(1)));
        output.AddRange(TickThrough(policy, T0.AddSeconds(1), T0.AddMinutes(10)));
        // 7 × 10% = 0.7 → 1; 30% = 2.1 → 2; 50% = 3.5 → 4; 100% → restore.
        Assert.Equal([1, 2, 4], output.OfType<SetWeightCommand>().Select(c => c.Weight));
        Assert.Single(output.OfType<RestoreCommand>());
    }

    [Fact]
    public void An_unconfigured_server_or_an_up_from_unknown_starts_no_ramp()
    {
        var policy = Policy();
        var stranger = new RealServerRef(Service, "10.0.0.99", 8080);
        Assert.Empty(policy.Handle(Change(stranger, HealthState.Up, HealthState.Down, T0), T0));
        Assert.Empty(policy.Handle(Change(stranger, HealthState.Down, HealthState.Up, T0.AddSeconds(1)), T0.AddSeconds(1)));
        Assert.Empty(policy.Handle(Change(Web1, HealthState.Unknown, HealthState.Up, T0), T0));
    }

    [Fact]
    public void Steps_that_do_not_end_at_100_are_refused()
    {
        Assert.Throws<FormatException>(() => new SlowStartOptions { Steps = "10,50" }.ParsedSteps());
        Assert.Throws<FormatException>(() => new SlowStartOptions { Steps = "50,10,100" }.ParsedSteps());
        Assert.Throws<FormatException>(() => new SlowStartOptions { Steps = "0,100" }.ParsedSteps());
        Assert.Equal([10, 30, 50, 100], new SlowStartOptions { Steps = "10%, 30%,50,100" }.ParsedSteps());
    }
}
