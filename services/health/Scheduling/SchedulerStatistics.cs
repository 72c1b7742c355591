namespace LvsEvents.Health.Scheduling;

/// <summary>
/// How punctual the scheduler is: how late each probe started against its due time (1 ms buckets up to 10 s), and how
/// many started a whole interval late or more (a missed interval).
/// </summary>
public sealed class SchedulerStatistics
{
    private const int Buckets = 10_001;
    private readonly long[] _lateness = new long[Buckets + 1];
    private long _started;
    private long _missed;
    private long _completed;
    private long _maxLatenessTicks;

    public long Started => Interlocked.Read(ref _started);

    public long Completed => Interlocked.Read(ref _completed);

    public long MissedIntervals => Interlocked.Read(ref _missed);

    public TimeSpan MaxLateness => TimeSpan.FromTicks(Interlocked.Read(ref _maxLatenessTicks));

    internal void RecordStart(TimeSpan lateness, TimeSpan interval)
    {
        Interlocked.Increment(ref _started);
        if (lateness < TimeSpan.Zero)
        {
            lateness = TimeSpan.Zero;
        }

        if (lateness >= interval)
        {
            Interlocked.Increment(ref _missed);
        }

        var bucket = (int)Math.Min(lateness.TotalMilliseconds, Buckets);
        Interlocked.Increment(ref _lateness[bucket]);
        long seen;
        while (lateness.Ticks > (seen = Interlocked.Read(ref _maxLatenessTicks))
               && Interlocked.CompareExchange(ref _maxLatenessTicks, lateness.Ticks, seen) != seen)
        {
        }
    }

    internal void RecordCompletion() => Interlocked.Increment(ref _completed);

    /// <summary>The lateness below which <paramref name="fraction"/> of the starts fell, to the millisecond (upper bound of the bucket).</summary>
    public TimeSpan LatenessPercentile(double fraction)
    {
        var counts = _lateness.Select(c => Interlocked.Read(ref c)).ToArray();
        var total = counts.Sum();
        if (total == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (long)Math.Ceiling(total * fraction);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return TimeSpan.FromMilliseconds(i + 1);
            }
        }

        return TimeSpan.FromMilliseconds(Buckets);
    }

    /// <summary>Forgets the starts so far (a benchmark drops its warm-up).</summary>
    public void Reset()
    {
        Array.Clear(_lateness);
        Interlocked.Exchange(ref _started, 0);
        Interlocked.Exchange(ref _missed, 0);
        Interlocked.Exchange(ref _completed, 0);
        Interlocked.Exchange(ref _maxLatenessTicks, 0);
    }
}
