using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Recording;

/// <summary>Counters of the recorder and how far behind the events it records are (store lag).</summary>
public sealed class RecordingStatistics(TimeProvider clock)
{
    private long _recorded;
    private long _duplicates;
    private long _lagTicks;
    private readonly long[] _stageTicks = new long[Enum.GetValues<RecordingStage>().Length];

    /// <summary>Wall time spent in a stage since start (decode, store write, metrics), for the pipeline's own metrics.</summary>
    public TimeSpan TimeIn(RecordingStage stage) => System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _stageTicks[(int)stage]));

    public void Spent(RecordingStage stage, long startTimestamp) =>
        Interlocked.Add(ref _stageTicks[(int)stage], System.Diagnostics.Stopwatch.GetTimestamp() - startTimestamp);

    public long RecordedEvents => Interlocked.Read(ref _recorded);

    public long DuplicateEvents => Interlocked.Read(ref _duplicates);

    /// <summary>Now minus the occurrence time of the newest event of the last recorded batch.</summary>
    public TimeSpan LastLag => TimeSpan.FromTicks(Interlocked.Read(ref _lagTicks));

    public void Recorded(int fresh, int duplicates, IReadOnlyList<LvsEvent> events)
    {
        Interlocked.Add(ref _recorded, fresh);
        Interlocked.Add(ref _duplicates, duplicates);
        if (events.Count > 0)
        {
            Interlocked.Exchange(ref _lagTicks, (clock.GetUtcNow() - events.Max(e => e.OccurredAt)).Ticks);
        }
    }
}

/// <summary>The steps a recorded batch goes through.</summary>
public enum RecordingStage
{
    Decode,
    Store,
    Observe,
}
