using LvsEvents.Health.State;

namespace LvsEvents.Health.Tests;

/// <summary>keepalived's checker semantics with time as an input (the "clock" is the TimeSpan passed in).</summary>
public class CheckerStateMachineTests
{
    private static readonly CheckerTiming Timing = new(
        DelayLoop: TimeSpan.FromSeconds(6), ConnectTimeout: TimeSpan.FromSeconds(3), Retry: 2, DelayBeforeRetry: TimeSpan.FromSeconds(2), Warmup: TimeSpan.FromSeconds(6));

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void First_probe_falls_within_the_warmup()
    {
        var machine = new CheckerStateMachine(Timing, alpha: false);
        Assert.Equal(S(10), machine.Start(S(10), 0));
        Assert.Equal(S(13), machine.Start(S(10), 0.5));
        Assert.True(machine.Start(S(10), 0.999999) < S(16));
    }

    [Fact]
    public void Starts_up_without_alpha_and_stays_up_on_success_one_delay_loop_apart()
    {
        var machine = new CheckerStateMachine(Timing, alpha: false);
        Assert.True(machine.IsUp);
        var decision = machine.OnProbe(S(1), true, Guid.NewGuid());
        Assert.Null(decision.Transition);
        Assert.Equal(S(7), decision.NextProbeAt);
        Assert.False(decision.IsRetry);
    }

    [Fact]
    public void Goes_down_after_retry_plus_one_failures_delay_before_retry_apart_naming_all_of_them()
    {
        var machine = new CheckerStateMachine(Timing, alpha: false);
        var probes = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();

        var first = machine.OnProbe(S(10), false, probes[0]);
        Assert.Equal((S(12), (bool?)null, true), (first.NextProbeAt, first.Transition, first.IsRetry));
        var second = machine.OnProbe(S(12), false, probes[1]);
        Assert.Equal((S(14), (bool?)null, true), (second.NextProbeAt, second.Transition, second.IsRetry));
        Assert.True(machine.IsUp);

        var third = machine.OnProbe(S(14), false, probes[2]);
        Assert.False(third.Transition);
        Assert.False(machine.IsUp);
        Assert.Equal(S(20), third.NextProbeAt);
        Assert.Equal(probes, third.CausingProbes);
    }

    [Fact]
    public void A_success_between_failures_resets_the_retry_count()
    {
        var machine = new CheckerStateMachine(Timing, alpha: false);
        machine.OnProbe(S(1), false, Guid.NewGuid());
        machine.OnProbe(S(3), false, Guid.NewGuid());
        machine.OnProbe(S(5), true, Guid.NewGuid());
        Assert.Equal(0, machine.FailedAttempts);
        Assert.Null(machine.OnProbe(S(11), false, Guid.NewGuid()).Transition);
        Assert.Null(machine.OnProbe(S(13), false, Guid.NewGuid()).Transition);
        Assert.False(machine.OnProbe(S(15), false, Guid.NewGuid()).Transition);
    }

    [Fact]
    public void Retry_zero_goes_down_on_the_first_failure()
    {
        var machine = new CheckerStateMachine(Timing with { Retry = 0 }, alpha: false);
        var probe = Guid.NewGuid();
        var decision = machine.OnProbe(S(1), false, probe);
        Assert.False(decision.Transition);
        Assert.Equal([probe], decision.CausingProbes);
        Assert.Equal(S(7), decision.NextProbeAt);
    }

    [Fact]
    public void A_down_checker_is_not_retried_and_comes_up_on_its_first_success()
    {
        var machine = new CheckerStateMachine(Timing with { Retry = 0 }, alpha: false);
        machine.OnProbe(S(1), false, Guid.NewGuid());

        var stillDown = machine.OnProbe(S(7), false, Guid.NewGuid());
        Assert.Equal((S(13), (bool?)null, false), (stillDown.NextProbeAt, stillDown.Transition, stillDown.IsRetry));

        var success = Guid.NewGuid();
        var up = machine.OnProbe(S(13), true, success);
        Assert.True(up.Transition);
        Assert.Equal([success], up.CausingProbes);
        Assert.True(machine.IsUp);
    }

    [Fact]
    public void Alpha_starts_down_and_one_success_brings_it_up()
    {
        var machine = new CheckerStateMachine(Timing, alpha: true);
        Assert.False(machine.IsUp);
        Assert.True(machine.OnProbe(S(1), true, Guid.NewGuid()).Transition);
    }

    [Fact]
    public void Alpha_failures_at_start_confirm_down_without_a_transition()
    {
        var machine = new CheckerStateMachine(Timing, alpha: true);
        Assert.True(machine.OnProbe(S(1), false, Guid.NewGuid()).IsRetry);
        Assert.True(machine.OnProbe(S(3), false, Guid.NewGuid()).IsRetry);
        var confirmed = machine.OnProbe(S(5), false, Guid.NewGuid());
        Assert.Null(confirmed.Transition);
        Assert.Equal(S(11), confirmed.NextProbeAt);
        Assert.False(machine.OnProbe(S(11), false, Guid.NewGuid()).IsRetry);
    }

    [Fact]
    public void Detection_bound_is_timeouts_of_every_attempt_plus_retry_delays_plus_one_loop()
    {
        // 3 × (2 + 1) + 2 × 2 + 6
        Assert.Equal(S(19), Timing.DetectionBound);
    }

    [Fact]
    public void Worst_case_death_to_down_in_the_machine_stays_within_the_bound()
    {
        // Dies just after a success at t=0; every later attempt takes the full timeout.
        var machine = new CheckerStateMachine(Timing, alpha: false);
        var next = machine.OnProbe(TimeSpan.Zero, true, Guid.NewGuid()).NextProbeAt;
        CheckerDecision decision;
        do
        {
            var completed = next + Timing.ConnectTimeout;
            decision = machine.OnProbe(completed, false, Guid.NewGuid());
            next = decision.NextProbeAt;
            if (decision.Transition is false)
            {
                Assert.Equal(Timing.DetectionBound, completed);
            }
        }
        while (decision.Transition is null);
    }
}
