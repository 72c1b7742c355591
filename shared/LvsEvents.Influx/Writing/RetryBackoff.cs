namespace LvsEvents.Influx;

/// <summary>Exponential backoff with jitter, so that many writers do not retry against a recovering server in step.</summary>
internal static class RetryBackoff
{
    /// <summary>
    /// The delay before retry number <paramref name="retry"/> (1-based): initial × 2^(retry-1), capped at
    /// <paramref name="max"/>, then scaled by a random factor in [0.5, 1).
    /// </summary>
    public static TimeSpan Delay(int retry, TimeSpan initial, TimeSpan max, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var exponent = Math.Min(retry - 1, 30);
        var uncapped = initial.Ticks * Math.Pow(2, exponent);
        var capped = Math.Min(uncapped, max.Ticks);
        return TimeSpan.FromTicks((long)(capped * (0.5 + (random.NextDouble() * 0.5))));
    }
}
