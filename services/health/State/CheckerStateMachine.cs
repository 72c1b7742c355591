namespace LvsEvents.Health.State;

/// <summary>What a probe result changed, and when the next probe is due.</summary>
/// <param name="NextProbeAt">When to probe again (on the same clock as the input).</param>
/// <param name="Transition">The checker's new state when it changed.</param>
/// <param name="CausingProbes">The probes that decided a transition, oldest first (empty otherwise).</param>
/// <param name="IsRetry">The next probe is a retry after a failure (delay_before_retry), not a new loop.</param>
public readonly record struct CheckerDecision(TimeSpan NextProbeAt, bool? Transition, IReadOnlyList<Guid> CausingProbes, bool IsRetry);

/// <summary>
/// One checker of one real server, with keepalived's semantics and time as an input (no clock, no I/O):
/// <list type="bullet">
/// <item>The checker starts up, or down with <c>alpha</c>; the first probe is at a random point within <c>warmup</c>.</item>
/// <item>A success resets the retry count; a down checker comes up on its first success.</item>
/// <item>An up checker (or one that has not run yet) that fails is retried <c>retry</c> times, <c>delay_before_retry</c>
/// apart; the failure after the last retry brings it down. A down checker that fails is not retried (keepalived only
/// retries to confirm a change).</item>
/// <item>After a success or a decided failure, the next probe is one <c>delay_loop</c> after the result, as keepalived
/// schedules its next check from the callback.</item>
/// </list>
/// Not thread-safe: one probe of a checker is in flight at a time, and only its completion touches the machine.
/// </summary>
public sealed class CheckerStateMachine(CheckerTiming timing, bool alpha)
{
    private readonly List<Guid> _failedProbes = [];
    // Until its first decision a checker confirms its initial state with retries, as keepalived's has_run does.
    private bool _settled;

    public CheckerTiming Timing => timing;

    /// <summary>keepalived's view of the checker: up unless alpha says to start down.</summary>
    public bool IsUp { get; private set; } = !alpha;

    /// <summary>Failed attempts since the last success or decision.</summary>
    public int FailedAttempts => _failedProbes.Count;

    /// <summary>When the first probe is due; <paramref name="jitter"/> in [0, 1) spreads checkers over the warmup.</summary>
    public TimeSpan Start(TimeSpan now, double jitter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(jitter);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(jitter, 1.0);
        return now + (timing.Warmup * jitter);
    }

    /// <summary>Applies a probe result completed at <paramref name="now"/>.</summary>
    public CheckerDecision OnProbe(TimeSpan now, bool success, Guid probeId)
    {
        if (success)
        {
            _settled = true;
            _failedProbes.Clear();
            if (IsUp)
            {
                return new CheckerDecision(now + timing.DelayLoop, null, [], false);
            }

            IsUp = true;
            return new CheckerDecision(now + timing.DelayLoop, true, [probeId], false);
        }

        if (!IsUp && _settled)
        {
            // Already down: nothing to confirm, check again next loop.
            return new CheckerDecision(now + timing.DelayLoop, null, [], false);
        }

        _failedProbes.Add(probeId);
        if (_failedProbes.Count <= timing.Retry)
        {
            return new CheckerDecision(now + timing.DelayBeforeRetry, null, [], true);
        }

        var causes = _failedProbes.ToArray();
        _failedProbes.Clear();
        _settled = true;
        if (!IsUp)
        {
            // alpha: started down and the first attempts confirmed it; no change to report.
            return new CheckerDecision(now + timing.DelayLoop, null, [], false);
        }

        IsUp = false;
        return new CheckerDecision(now + timing.DelayLoop, false, causes, false);
    }
}
