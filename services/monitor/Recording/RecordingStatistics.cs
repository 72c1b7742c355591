using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Recording;

/// <summary>Counters of the recorder and how far behind the events it records are (store lag).</summary>
public sealed class RecordingStatistics(TimeProvider clock)
{
    private long _recorded;
    private long _duplicates;
    private long _lagTicks;

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
