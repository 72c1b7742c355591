using LvsEvents.Contracts;
using LvsEvents.Influx;
using LvsEvents.Monitor.Recording;

namespace LvsEvents.Monitor.Metrics;

/// <summary>Writes a point per recorded event. Never blocks: a full buffer drops points and counts them.</summary>
public sealed class InfluxEventObserver(InfluxMetricsWriter writer) : IRecordedEventObserver
{
    public void Observe(IReadOnlyList<LvsEvent> events)
    {
        foreach (var e in events)
        {
            writer.TryWrite(EventPoint.From(e));
        }
    }
}
