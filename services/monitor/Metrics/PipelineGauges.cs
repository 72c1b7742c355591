using LvsEvents.Contracts;
using Prometheus;

namespace LvsEvents.Monitor.Metrics;

/// <summary>The <c>pipeline</c> measurement and the per-measurement event counts, for Prometheus.</summary>
public static class PipelineGauges
{
    private static readonly Counter Events = Prometheus.Metrics.CreateCounter("pipeline_events", "Events recorded in the store.");
    private static readonly Gauge MaxLag = Prometheus.Metrics.CreateGauge("pipeline_max_lag_ms", "How late the oldest event of the last batch reached the store.");
    private static readonly Gauge Dropped = Prometheus.Metrics.CreateGauge("pipeline_dropped_points", "InfluxDB points the monitor had to drop.");
    private static readonly Counter ByType = Prometheus.Metrics.CreateCounter("lvs_events", "Recorded events by node and type.", "node", "event_type");

    public static void Observe(IReadOnlyList<LvsEvent> events, DateTimeOffset recordedAt, long droppedPoints)
    {
        Events.Inc(events.Count);
        if (events.Count > 0)
            MaxLag.Set(Math.Max(0, (recordedAt - events.Min(e => e.OccurredAt)).TotalMilliseconds));
        Dropped.Set(droppedPoints);
        foreach (var group in events.GroupBy(e => (e.NodeId, e.EventType)))
            ByType.WithLabels(group.Key.NodeId, group.Key.EventType).Inc(group.Count());
    }
}
