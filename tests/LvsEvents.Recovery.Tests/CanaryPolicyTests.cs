using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Recovery.Policy;

namespace LvsEvents.Recovery.Tests;

/// <summary>The canary state machine with time as input.</summary>
public sealed class CanaryPolicyTests
{
    private static readonly VirtualServiceRef Service = VirtualServiceRef.Tcp("10.0.0.100", 80);
    private static readonly RealServerRef Old1 = new(Service, "10.0.0.21", 8080);
    private static readonly RealServerRef Old2 = new(Service, "10.0.0.22", 8080);
    private static readonly RealServerRef New = new(Service, "10.0.0.23", 8080);
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    private static CanaryPolicy Policy() => new(new CanaryOptions(), "lvs-1", service => service == Service
        ? new Dictionary<RealServerRef, int> { [Old1] = 20, [Old2] = 10, [New] = 0 }
        : null);

    private static CanaryStartCommand Start(RealServerRef? server = null, IReadOnlyList<int>? steps = null, bool removeOld = false) => new()
    {
        EventId = Guid.CreateVersion7(T0), OccurredAt = T0, Service = "lvsctl", Server = server ?? New, Steps = steps ?? [10, 30, 50, 100],
        Interval = Interval, MaxErrorRate = 0.05, RemoveOld = removeOld, RequestedBy = "ops",
    };

    private static CanaryControlCommand Control(CanaryControl action, DateTimeOffset at) => new()
    {
        EventId = Guid.CreateVersion7(at), OccurredAt = at, Service = "lvsctl", VirtualService = Service, Action = action, RequestedBy = "ops",
    };

    private static ProbeCompleted Probe(bool success, DateTimeOffset at) => new()
    {
        EventId = Guid.CreateVersion7(at), OccurredAt = at, NodeId = "lvs-1", Service = "health", RealServer = New, Checker = "TCP_CHECK",
        Success = success, Latency = TimeSpan.FromMilliseconds(1), Error = success ? ProbeErrorClass.None : ProbeErrorClass.Refused,
    };

    private static Dictionary<RealServerRef, int> Weights(IEnumerable<LvsEvent> output) =>
        output.OfType<SetWeightCommand>().ToDictionary(c => c.RealServer, c => c.Weight);

    private static double NewShare(IEnumerable<LvsEvent> output)
    {
        var w = Weights(output);
        return w[New] / (double)w.Values.Sum();
    }

    [Fact]
    public void A_canary_steps_through_its_shares_one_interval_apart_and_completes_at_100_percent()
    {
        var policy = Policy();
        var start = Start();

        var first = policy.Handle(start, T0);

        var started = Assert.Single(first.OfType<RecoveryDecision>());
        Assert.Equal((RecoveryAction.CanaryStarted, start.EventId, New), (started.Action, started.CorrelationId, started.RealServer));
        Assert.InRange(NewShare(first), 0.095, 0.105);
        Assert.All(first.OfType<SetWeightCommand>(), c => Assert.Equal((start.EventId, started.EventId), (c.CorrelationId, c.CausationId)));
        Assert.Equal(CanaryState.Running, Assert.Single(first.OfType<CanaryStatus>()).State);

        Assert.Empty(policy.Tick(T0 + Interval - TimeSpan.FromSeconds(1)));
        var second = policy.Tick(T0 + Interval);
        Assert.Equal(RecoveryAction.CanaryStep, Assert.Single(second.OfType<RecoveryDecision>()).Action);
        Assert.InRange(NewShare(second), 0.295, 0.305);
        Assert.Equal(2, Weights(second)[Old1] / Weights(second)[Old2]);

        Assert.InRange(NewShare(policy.Tick(T0 + 2 * Interval)), 0.495, 0.505);
        var full = Weights(policy.Tick(T0 + 3 * Interval));
        Assert.Equal((30, 0, 0), (full[New], full[Old1], full[Old2]));

        // 100 % is watched one more interval, then the canary completes; without --remove-old nothing is drained.
        var done = policy.Tick(T0 + 4 * Interval);
        Assert.Equal(RecoveryAction.CanaryCompleted, Assert.Single(done.OfType<RecoveryDecision>()).Action);
        Assert.Empty(done.OfType<DrainCommand>());
        Assert.Equal(CanaryState.Completed, policy.Get(Service)!.State);
        Assert.Empty(policy.Tick(T0 + 10 * Interval));
    }

    [Fact]
    public void With_remove_old_the_old_servers_are_drained_once_100_percent_held()
    {
        var policy = Policy();
        policy.Handle(Start(steps: [50, 100], removeOld: true), T0);
        policy.Tick(T0 + Interval);

        var done = policy.Tick(T0 + 2 * Interval);

        Assert.Equal([Old1, Old2], done.OfType<DrainCommand>().Select(d => d.RealServer).ToList());
        Assert.Equal(AlertSeverity.Info, Assert.Single(done.OfType<RecoveryDecision>()).Alert);
    }

    [Fact]
    public void A_failed_probe_above_the_error_rate_rolls_back_at_once_and_the_step_window_restarts_the_count()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        var at = T0;
        for (var i = 0; i < 20; i++)
        {
            Assert.Empty(policy.Handle(Probe(true, at = at.AddSeconds(1)), at).OfType<RecoveryDecision>());
        }

        // 1 failure in 21 probes = 4.8 % ≤ 5 %: tolerated.
        Assert.Empty(policy.Handle(Probe(false, at = at.AddSeconds(1)), at).OfType<RecoveryDecision>());
        policy.Tick(T0 + Interval);
        Assert.Equal((0, 0), (policy.Get(Service)!.Probes, policy.Get(Service)!.FailedProbes));
        Assert.Empty(policy.Handle(Probe(true, at = T0 + Interval + TimeSpan.FromSeconds(1)), at).OfType<RecoveryDecision>());

        var failed = Probe(false, at = at.AddSeconds(1));
        var output = policy.Handle(failed, at);

        var rollback = Assert.Single(output.OfType<RecoveryDecision>());
        Assert.Equal((RecoveryAction.CanaryRolledBack, AlertSeverity.Warning, failed.EventId), (rollback.Action, rollback.Alert, rollback.CausationId));
        Assert.Contains("1 of 2 probes at 30%", rollback.Reason, StringComparison.Ordinal);
        Assert.Equal(0, Assert.Single(output.OfType<SetWeightCommand>()).Weight);
        Assert.Equal([Old1, Old2], output.OfType<RestoreCommand>().Select(r => r.RealServer).ToList());
        Assert.Equal(CanaryState.RolledBack, policy.Get(Service)!.State);
        Assert.Empty(policy.Tick(T0 + 5 * Interval));
        Assert.Empty(policy.Handle(Probe(false, at.AddSeconds(1)), at.AddSeconds(1)));
    }

    [Fact]
    public void The_new_server_going_down_rolls_back_and_other_servers_health_does_not()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        var other = new RealServerHealthChanged { EventId = Guid.CreateVersion7(T0), RealServer = Old1, From = HealthState.Up, To = HealthState.Down, Checker = "TCP_CHECK" };
        Assert.Empty(policy.Handle(other, T0.AddSeconds(1)));

        var down = other with { EventId = Guid.CreateVersion7(T0.AddSeconds(2)), RealServer = New, Reason = "connection refused" };
        var output = policy.Handle(down, T0.AddSeconds(2));

        Assert.Equal(RecoveryAction.CanaryRolledBack, Assert.Single(output.OfType<RecoveryDecision>()).Action);
        Assert.Contains("connection refused", output.OfType<RecoveryDecision>().Single().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Paused_canaries_do_not_step_but_still_roll_back_resume_waits_an_interval_abort_rolls_back()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        var paused = policy.Handle(Control(CanaryControl.Pause, T0.AddMinutes(1)), T0.AddMinutes(1));
        Assert.Equal(RecoveryAction.CanaryPaused, Assert.Single(paused.OfType<RecoveryDecision>()).Action);
        Assert.Equal(CanaryState.Paused, Assert.Single(paused.OfType<CanaryStatus>()).State);
        Assert.Empty(policy.Tick(T0 + 3 * Interval));

        var resumed = policy.Handle(Control(CanaryControl.Resume, T0 + 3 * Interval), T0 + 3 * Interval);
        Assert.Equal(RecoveryAction.CanaryResumed, Assert.Single(resumed.OfType<RecoveryDecision>()).Action);
        Assert.Empty(policy.Tick(T0 + 4 * Interval - TimeSpan.FromSeconds(1)));
        Assert.InRange(NewShare(policy.Tick(T0 + 4 * Interval)), 0.295, 0.305);

        var abort = Control(CanaryControl.Abort, T0 + 4 * Interval + TimeSpan.FromSeconds(1));
        var aborted = policy.Handle(abort, abort.OccurredAt);
        Assert.Equal((RecoveryAction.CanaryAborted, abort.EventId), (aborted.OfType<RecoveryDecision>().Single().Action, aborted.OfType<RecoveryDecision>().Single().CausationId));
        Assert.Equal(0, Weights(aborted)[New]);
        Assert.Equal(2, aborted.OfType<RestoreCommand>().Count());
        // The control command's answer: the status, caused by it.
        Assert.Contains(aborted.OfType<CanaryStatus>(), s => s.CausationId == abort.EventId && s.State == CanaryState.Aborted);

        var late = policy.Handle(Control(CanaryControl.Pause, abort.OccurredAt.AddSeconds(1)), abort.OccurredAt.AddSeconds(1));
        Assert.StartsWith("cannot pause", Assert.Single(late.OfType<CanaryStatus>()).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_pause_of_a_paused_canary_is_refused_but_still_answered_with_the_status()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        policy.Handle(Control(CanaryControl.Pause, T0.AddSeconds(1)), T0.AddSeconds(1));

        var again = policy.Handle(Control(CanaryControl.Pause, T0.AddSeconds(2)), T0.AddSeconds(2));

        Assert.Empty(again.OfType<RecoveryDecision>());
        Assert.Equal(CanaryState.Paused, Assert.Single(again.OfType<CanaryStatus>()).State);
    }

    [Theory]
    [InlineData("10.0.0.99", "[10,30,100]", "server: 10.0.0.99:8080 is not a real_server")]
    [InlineData("10.0.0.23", "[10,30,50]", "steps: '10,30,50' must end at 100")]
    [InlineData("10.0.0.23", "[30,10,100]", "steps: '30,10,100' must ascend")]
    [InlineData("10.0.0.23", "[0,100]", "steps: '0,100' has a percentage outside 1..100")]
    public void Bad_starts_are_rejected_with_the_field_named(string address, string steps, string reason)
    {
        var output = Policy().Handle(Start(new RealServerRef(Service, address, 8080), JsonSerializer.Deserialize<int[]>(steps)), T0);

        var decision = Assert.Single(output.OfType<RecoveryDecision>());
        Assert.Equal(RecoveryAction.CanaryRejected, decision.Action);
        Assert.Contains(reason, decision.Reason, StringComparison.Ordinal);
        Assert.Equal(CanaryState.Rejected, Assert.Single(output.OfType<CanaryStatus>()).State);
        Assert.Empty(output.OfType<LvsCommand>());
    }

    [Fact]
    public void An_unknown_service_or_a_second_canary_is_rejected()
    {
        var policy = Policy();
        var elsewhere = Policy().Handle(Start(new RealServerRef(VirtualServiceRef.Tcp("10.9.9.9", 80), "10.0.0.23", 8080)), T0);
        Assert.Contains("service: TCP/10.9.9.9:80 is not a virtual_server", elsewhere.OfType<RecoveryDecision>().Single().Reason, StringComparison.Ordinal);

        policy.Handle(Start(), T0);
        var second = policy.Handle(Start() with { EventId = Guid.CreateVersion7(T0.AddSeconds(1)) }, T0.AddSeconds(1));
        Assert.Contains("is running (abort it first)", second.OfType<RecoveryDecision>().Single().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_command_twice_acts_once()
    {
        var policy = Policy();
        var start = Start();
        policy.Handle(start, T0);

        Assert.Empty(policy.Handle(start, T0.AddSeconds(1)));
    }

    [Fact]
    public void Exported_state_survives_json_and_a_new_policy_carries_on_at_the_same_step()
    {
        var policy = Policy();
        var start = Start();
        policy.Handle(start, T0);
        policy.Tick(T0 + Interval);
        policy.Handle(Probe(true, T0 + Interval + TimeSpan.FromSeconds(1)), T0 + Interval + TimeSpan.FromSeconds(1));

        var json = JsonSerializer.Serialize(policy.Export(), EventJson.Options);
        var restarted = Policy();
        restarted.Import(JsonSerializer.Deserialize<CanaryPolicyState>(json, EventJson.Options)!);

        Assert.Equal((1, 1, CanaryState.Running), (restarted.Get(Service)!.Step, restarted.Get(Service)!.Probes, restarted.Get(Service)!.State));
        Assert.Empty(restarted.Handle(start, T0 + Interval + TimeSpan.FromSeconds(2)));
        Assert.InRange(NewShare(restarted.Tick(T0 + 2 * Interval)), 0.495, 0.505);
        Assert.Equal(start.EventId, restarted.Get(Service)!.Id);
    }

    /// <summary>One statistics poll of the service that ended at <paramref name="at"/>: new (and unanswered) connections per server.</summary>
    private static KernelStatisticsReported Poll(DateTimeOffset at, long toNew, long? unanswered, long toOld1 = 0, long toOld2 = 0, TimeSpan? interval = null, VirtualServiceRef? service = null) => new()
    {
        EventId = Guid.CreateVersion7(at), OccurredAt = at, NodeId = "lvs-2", Service = "ipvs-writer", Backend = unanswered is null ? "ipvs" : "nftables",
        Interval = interval ?? TimeSpan.FromSeconds(5),
        Services =
        [
            new VirtualServiceTraffic(service ?? Service, 3, 0, 0, toNew + toOld1 + toOld2, null, null, null, null, null)
            {
                RealServers =
                [
                    new DestinationTraffic(New.Address, New.Port, 13, 0, toNew, toNew, toNew / 5.0, unanswered),
                    new DestinationTraffic(Old1.Address, Old1.Port, 20, 0, toOld1, toOld1, toOld1 / 5.0, unanswered is null ? null : 0),
                    new DestinationTraffic(Old2.Address, Old2.Port, 10, 0, toOld2, toOld2, toOld2 / 5.0, unanswered is null ? null : 0),
                ],
            },
        ],
    };

    [Fact]
    public void Unanswered_connections_above_the_error_rate_roll_back_once_enough_were_sent_caused_by_the_statistics()
    {
        var policy = Policy();
        var start = Start();
        policy.Handle(start, T0);
        var step = T0 + Interval;
        policy.Tick(step);

        // A poll that began before the 30 % step counted traffic at the old weights: left out.
        Assert.Empty(policy.Handle(Poll(step.AddSeconds(2), 50, 50), step.AddSeconds(2)));
        Assert.Equal(0, policy.Get(Service)!.KernelConnections);
        // 9 of 10 unanswered, but 10 connections are too few to judge (minimum 20).
        Assert.Empty(policy.Handle(Poll(step.AddSeconds(7), 10, 9, 16, 8), step.AddSeconds(7)).OfType<RecoveryDecision>());
        // Another service's statistics and the same poll delivered twice change nothing.
        var elsewhere = Poll(step.AddSeconds(8), 100, 100, service: VirtualServiceRef.Tcp("10.0.0.101", 80));
        Assert.Empty(policy.Handle(elsewhere, step.AddSeconds(8)));
        var poll = Poll(step.AddSeconds(12), 30, 28, 46, 24);
        var output = policy.Handle(poll, step.AddSeconds(12));

        var rollback = Assert.Single(output.OfType<RecoveryDecision>());
        Assert.Equal((RecoveryAction.CanaryRolledBack, AlertSeverity.Warning, start.EventId, poll.EventId), (rollback.Action, rollback.Alert, rollback.CorrelationId, rollback.CausationId));
        Assert.Equal([start.EventId, poll.EventId], rollback.CausingEvents);
        Assert.StartsWith("10.0.0.23:8080 left 37 of 40 new connections unanswered at the 30% step (92.5% > max 5.0%; kernel.statistics of lvs-2): rolled back", rollback.Reason, StringComparison.Ordinal);
        Assert.Equal(0, Assert.Single(output.OfType<SetWeightCommand>()).Weight);
        Assert.Equal([Old1, Old2], output.OfType<RestoreCommand>().Select(r => r.RealServer).ToList());
        Assert.All(output.OfType<LvsCommand>(), c => Assert.Equal((start.EventId, rollback.EventId), (c.CorrelationId, c.CausationId)));
        Assert.Equal(CanaryState.RolledBack, policy.Get(Service)!.State);
        Assert.Empty(policy.Handle(poll with { EventId = Guid.CreateVersion7(step.AddSeconds(17)), OccurredAt = step.AddSeconds(17) }, step.AddSeconds(17)));
    }

    [Fact]
    public void A_duplicate_poll_counts_once()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        var poll = Poll(T0.AddSeconds(5), 15, 15);

        Assert.Empty(policy.Handle(poll, T0.AddSeconds(5)).OfType<RecoveryDecision>());
        Assert.Empty(policy.Handle(poll, T0.AddSeconds(6)));

        Assert.Equal((15, 15L), (policy.Get(Service)!.KernelConnections, policy.Get(Service)!.KernelUnanswered!.Value));
        Assert.Equal(CanaryState.Running, policy.Get(Service)!.State);
    }

    [Fact]
    public void Unanswered_within_the_error_rate_and_statistics_that_cannot_tell_do_not_roll_back()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);

        // 1 of 25 (4 %) ≤ 5 %: tolerated. Then IPVS's statistics (no unanswered figure) with plenty of traffic.
        Assert.Empty(policy.Handle(Poll(T0.AddSeconds(5), 25, 1, 150, 75), T0.AddSeconds(5)).OfType<RecoveryDecision>());
        Assert.Empty(policy.Handle(Poll(T0.AddSeconds(10), 500, null, 3000, 1500), T0.AddSeconds(10)).OfType<RecoveryDecision>());

        var c = policy.Get(Service)!;
        Assert.Equal((CanaryState.Running, 525, 1L, 5250), (c.State, c.KernelConnections, c.KernelUnanswered!.Value, c.KernelServiceConnections));
        // The status says what the kernel saw this step.
        Assert.Equal("kernel this step: 10.0.0.23:8080 got 525 of 5250 new connections (10.0%; weight share 10.4%), 1 unanswered",
            policy.Status(Service, T0.AddSeconds(11)).Reason);
    }

    [Fact]
    public void A_paused_canary_is_still_watched_by_the_kernel()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        policy.Handle(Control(CanaryControl.Pause, T0.AddSeconds(1)), T0.AddSeconds(1));

        var output = policy.Handle(Poll(T0.AddSeconds(5), 20, 20), T0.AddSeconds(5));

        Assert.Equal(RecoveryAction.CanaryRolledBack, Assert.Single(output.OfType<RecoveryDecision>()).Action);
    }

    [Fact]
    public void Each_step_decision_records_the_kernel_share_of_the_step_before_against_the_weight_share()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        // The 10 % step (7 against 40/20: 10.4 % of the weight): the kernel gave the new server 41 of 400.
        policy.Handle(Poll(T0.AddSeconds(5), 20, 0, 120, 60), T0.AddSeconds(5));
        policy.Handle(Poll(T0.AddSeconds(10), 21, 0, 119, 60), T0.AddSeconds(10));

        var step = Assert.Single(policy.Tick(T0 + Interval).OfType<RecoveryDecision>());

        Assert.Equal(RecoveryAction.CanaryStep, step.Action);
        Assert.EndsWith("; kernel at 10%: 10.0.0.23:8080 got 41 of 400 new connections (10.3%; weight share 10.4%), 0 unanswered", step.Reason, StringComparison.Ordinal);
        // The next step counts afresh; with no traffic at all, nothing is said.
        Assert.Equal((0, 0, (long?)null), (policy.Get(Service)!.KernelConnections, policy.Get(Service)!.KernelServiceConnections, policy.Get(Service)!.KernelUnanswered));
        Assert.DoesNotContain("kernel", Assert.Single(policy.Tick(T0 + 2 * Interval).OfType<RecoveryDecision>()).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernel_counts_survive_the_saved_state()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        policy.Handle(Poll(T0.AddSeconds(5), 12, 1, 80, 40), T0.AddSeconds(5));

        var restarted = Policy();
        restarted.Import(JsonSerializer.Deserialize<CanaryPolicyState>(JsonSerializer.Serialize(policy.Export(), EventJson.Options), EventJson.Options)!);

        var c = restarted.Get(Service)!;
        Assert.Equal((12, 1L, 132), (c.KernelConnections, c.KernelUnanswered!.Value, c.KernelServiceConnections));
        // 12 + 8 = 20 sent, 1 + 2 = 3 unanswered: 15 % > 5 %.
        Assert.Equal(RecoveryAction.CanaryRolledBack, Assert.Single(restarted.Handle(Poll(T0.AddSeconds(10), 8, 2), T0.AddSeconds(10)).OfType<RecoveryDecision>()).Action);
    }

    [Fact]
    public void A_canary_state_saved_before_kernel_counts_existed_still_loads()
    {
        var policy = Policy();
        policy.Handle(Start(), T0);
        var saved = JsonSerializer.SerializeToNode(policy.Export(), EventJson.Options)!;
        var canary = saved["canaries"]![0]!.AsObject();
        foreach (var name in canary.Select(p => p.Key).Where(k => k.StartsWith("kernel", StringComparison.Ordinal)).ToList())
        {
            canary.Remove(name);
        }

        var old = saved.ToJsonString();
        Assert.DoesNotContain("kernel", old, StringComparison.OrdinalIgnoreCase);

        var restarted = Policy();
        restarted.Import(JsonSerializer.Deserialize<CanaryPolicyState>(old, EventJson.Options)!);

        Assert.Equal((CanaryState.Running, 0, (long?)null), (restarted.Get(Service)!.State, restarted.Get(Service)!.KernelConnections, restarted.Get(Service)!.KernelUnanswered));
    }
}
