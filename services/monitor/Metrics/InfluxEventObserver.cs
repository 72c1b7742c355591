using LvsEvents.Contracts;
using LvsEvents.Influx;
using LvsEvents.Monitor.Recording;

namespace LvsEvents.Monitor.Metrics;

/// <summary>
/// Writes a point per recorded event, and one <see cref="PipelinePoint"/> per batch. Never blocks: a full buffer
/// drops points and counts them.
/// </summary>
public sealed class InfluxEventObserver(InfluxMetricsWriter writer, TimeProvider clock) : IRecordedEventObserver
{
    public void Observe(IReadOnlyList<LvsEvent> events)
    {
        foreach (var e in events)
        {
            writer.TryWrite(EventPoint.From(e));
        }

        var now = clock.GetUtcNow();
        var status = writer.GetStatus();
        writer.TryWrite(PipelinePoint.From(events, now, status));
        PipelineGauges.Observe(events, now, status.Dropped);
    }
}
