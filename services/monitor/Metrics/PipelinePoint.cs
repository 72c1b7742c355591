using LvsEvents.Contracts;
using LvsEvents.Influx;

namespace LvsEvents.Monitor.Metrics;

/// <summary>
/// The pipeline's own health, one point per recorded batch (measurement <c>pipeline</c>): how many events, how
/// late the oldest of them reached the store, and how many metric points the writer had to drop so far.
/// </summary>
public static class PipelinePoint
{
    public static InfluxPoint From(IReadOnlyList<LvsEvent> events, DateTimeOffset recordedAt, InfluxWriterStatus writer)
    {
        var oldest = events.Count == 0 ? recordedAt : events.Min(e => e.OccurredAt);
        return new InfluxPoint("pipeline", null, new Dictionary<string, InfluxFieldValue>
        {
            ["events"] = events.Count,
            ["max_lag_ms"] = Math.Max(0, (recordedAt - oldest).TotalMilliseconds),
            ["dropped_points"] = writer.Dropped,
            ["abandoned_points"] = writer.Abandoned,
        }, recordedAt);
    }
}
