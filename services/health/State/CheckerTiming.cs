using LvsEvents.Keepalived.Model;

namespace LvsEvents.Health.State;

/// <summary>The timing of one checker, as keepalived reads it (the parser has already applied the inheritance and defaults).</summary>
public sealed record CheckerTiming(TimeSpan DelayLoop, TimeSpan ConnectTimeout, int Retry, TimeSpan DelayBeforeRetry, TimeSpan Warmup)
{
    public static CheckerTiming Of(HealthChecker checker)
    {
        // MISC_CHECK's time limit is misc_timeout (default: the delay loop), not connect_timeout.
        var timeout = checker is MiscCheck misc ? TimeSpan.FromSeconds(misc.Timeout ?? checker.DelayLoop) : TimeSpan.FromSeconds(checker.ConnectTimeout);
        return new CheckerTiming(
            TimeSpan.FromSeconds(checker.DelayLoop),
            timeout,
            Math.Max(0, checker.Retry),
            TimeSpan.FromSeconds(checker.DelayBeforeRetry),
            TimeSpan.FromSeconds(checker.Warmup));
    }

    /// <summary>
    /// The longest a dead real server can still be seen up: it dies just after a good probe, the next probe comes one
    /// delay loop later, and each of the retry + 1 failing attempts may take the whole timeout.
    /// </summary>
    public TimeSpan DetectionBound => (ConnectTimeout * (Retry + 1)) + (DelayBeforeRetry * Retry) + DelayLoop;

    /// <summary>The longest gap between two probe results of a healthy loop: a delay (loop or retry) and a timed-out probe.</summary>
    public TimeSpan LongestQuietGap => (DelayLoop > DelayBeforeRetry ? DelayLoop : DelayBeforeRetry) + ConnectTimeout;
}
