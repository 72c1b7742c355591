namespace LvsEvents.Influx;

/// <summary>
/// Tuning of <see cref="InfluxMetricsWriter"/>, bound from the configuration section <c>Influx</c>.
/// Where to write comes from <c>ConnectionStrings:influxdb</c> instead, so this object never holds secrets.
/// </summary>
public sealed class InfluxWriterOptions
{
    public const string SectionName = "Influx";

    /// <summary>Points held while waiting to be sent; when full, <see cref="InfluxMetricsWriter.TryWrite"/> drops the point.</summary>
    public int BufferCapacity { get; set; } = 100_000;

    /// <summary>Most points per write request.</summary>
    public int MaxBatchSize { get; set; } = 5_000;

    /// <summary>Longest time a point waits in the buffer before its batch is sent.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Timeout of one write request; a timeout is retried.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delay before the first retry; each later retry doubles it, up to <see cref="RetryMaxDelay"/>, with jitter.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries of one batch before it is abandoned (about 8 minutes with the default delays).</summary>
    public int MaxRetryAttempts { get; set; } = 20;

    /// <summary>How long stopping or disposing may spend sending what is still buffered.</summary>
    public TimeSpan ShutdownFlushTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void ThrowIfInvalid()
    {
        RequirePositive(BufferCapacity, nameof(BufferCapacity));
        RequirePositive(MaxBatchSize, nameof(MaxBatchSize));
        RequirePositive(FlushInterval, nameof(FlushInterval));
        RequirePositive(RequestTimeout, nameof(RequestTimeout));
        RequirePositive(RetryInitialDelay, nameof(RetryInitialDelay));
        RequirePositive(ShutdownFlushTimeout, nameof(ShutdownFlushTimeout));
        if (RetryMaxDelay < RetryInitialDelay)
        {
            throw new ArgumentException(
                $"{SectionName}:{nameof(RetryMaxDelay)} ({RetryMaxDelay}) must not be less than {SectionName}:{nameof(RetryInitialDelay)} ({RetryInitialDelay}).");
        }

        if (MaxRetryAttempts < 0)
        {
            throw new ArgumentException($"{SectionName}:{nameof(MaxRetryAttempts)} must not be negative (was {MaxRetryAttempts}).");
        }
    }

    private static void RequirePositive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"{SectionName}:{name} must be positive (was {value}).");
        }
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{SectionName}:{name} must be positive (was {value}).");
        }
    }
}
