using LvsEvents.Health.Checking;
using LvsEvents.Health.State;

namespace LvsEvents.Health.Scheduling;

/// <summary>One checker of one real server as the scheduler runs it: its probe, its state machine and when it is due.</summary>
public sealed class CheckRunner(MonitoredRealServer server, int index, IProbe probe, CheckerStateMachine machine) : IThreadPoolWorkItem
{
    public MonitoredRealServer Server => server;

    /// <summary>The checker's position among its real server's checkers.</summary>
    public int Index => index;

    public IProbe Probe => probe;

    public CheckerStateMachine Machine => machine;

    /// <summary>Scheduler-owned: when the next probe should start.</summary>
    public TimeSpan DueAt { get; set; }

    /// <summary>The last time the checker showed life (a result, or being started); read by the watchdog.</summary>
    public TimeSpan LastActivity
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _lastActivityTicks));
        set => Volatile.Write(ref _lastActivityTicks, value.Ticks);
    }

    /// <summary>The watchdog already reported this checker; cleared by its next result.</summary>
    public bool StallReported { get; set; }

    public int ProbeCount => Volatile.Read(ref _probeCount);

    internal ProbeScheduler? Scheduler { get; set; }

    /// <summary>The scheduler's thread took a slot for this probe before handing it on.</summary>
    internal bool HoldsSlot { get; set; }

    private long _lastActivityTicks;
    private int _probeCount;

    internal void CountProbe() => Interlocked.Increment(ref _probeCount);

    void IThreadPoolWorkItem.Execute() => Scheduler!.Start(this);
}
