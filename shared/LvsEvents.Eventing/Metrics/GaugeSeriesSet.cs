using Prometheus;

namespace LvsEvents.Eventing.Metrics;

/// <summary>
/// The labelled gauge series one scrape sets, so that the next one removes the series of what went away (a real server
/// a reload removed, a service that left the kernel table) instead of exporting its last value forever. Not thread-safe:
/// the owner sets and completes under its own lock.
/// </summary>
public sealed class GaugeSeriesSet
{
    private static readonly SeriesComparer Comparer = new();
    private HashSet<(Gauge Gauge, string[] Labels)> _previous = new(Comparer);
    private HashSet<(Gauge Gauge, string[] Labels)> _current = new(Comparer);

    public void Set(Gauge gauge, string[] labels, double value)
    {
        gauge.WithLabels(labels).Set(value);
        _current.Add((gauge, labels));
    }

    /// <summary>Ends this scrape: removes the series the previous one set and this one did not.</summary>
    public void Complete()
    {
        foreach (var (gauge, labels) in _previous)
        {
            if (!_current.Contains((gauge, labels)))
                gauge.RemoveLabelled(labels);
        }

        (_previous, _current) = (_current, _previous);
        _current.Clear();
    }

    private sealed class SeriesComparer : IEqualityComparer<(Gauge Gauge, string[] Labels)>
    {
        public bool Equals((Gauge Gauge, string[] Labels) x, (Gauge Gauge, string[] Labels) y) =>
            ReferenceEquals(x.Gauge, y.Gauge) && x.Labels.AsSpan().SequenceEqual(y.Labels);

        public int GetHashCode((Gauge Gauge, string[] Labels) obj)
        {
            var hash = new HashCode();
            hash.Add(obj.Gauge);
            foreach (var label in obj.Labels)
                hash.Add(label, StringComparer.Ordinal);
            return hash.ToHashCode();
        }
    }
}
