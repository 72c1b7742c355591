namespace LvsEvents.Influx;

/// <summary>
/// A snapshot of <see cref="InfluxMetricsWriter"/>'s counters. Every point that <see cref="InfluxMetricsWriter.TryWrite"/>
/// accepted ends up in exactly one of Written, Rejected or Abandoned (or is still buffered).
/// </summary>
/// <param name="Written">Points InfluxDB stored.</param>
/// <param name="Dropped">Points refused by <see cref="InfluxMetricsWriter.TryWrite"/> because the buffer was full or the writer had stopped.</param>
/// <param name="Rejected">Points InfluxDB refused with a 4xx answer (bad data, type conflict, bad credentials); not retried.</param>
/// <param name="Abandoned">Accepted points given up on: retries ran out, or the shutdown flush deadline passed.</param>
/// <param name="Retries">Write requests repeated after a 5xx, timeout or connection error.</param>
/// <param name="Buffered">Points waiting in the buffer.</param>
/// <param name="LastError">The most recent failure, without credentials; null before the first one.</param>
/// <param name="LastErrorAt">When <paramref name="LastError"/> happened.</param>
public sealed record InfluxWriterStatus(
    long Written,
    long Dropped,
    long Rejected,
    long Abandoned,
    long Retries,
    int Buffered,
    string? LastError,
    DateTimeOffset? LastErrorAt);
