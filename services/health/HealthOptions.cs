namespace LvsEvents.Health;

/// <summary>The health service's own settings (section <c>Health</c>); what to check comes from keepalived.conf.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>Probe from inside this network namespace (<c>/run/netns/NAME</c>) while the service stays in its own.</summary>
    public string? NetworkNamespace { get; set; }

    /// <summary>The longest the scheduler sleeps when nothing is due (its heartbeat for the watchdog).</summary>
    public TimeSpan Tick { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Probes in flight at most; more wait for a slot (and show as lateness).</summary>
    public int MaxConcurrentProbes { get; set; } = 4096;

    /// <summary>Thread-pool workers kept ready (the spool's fsync blocks one; probe completions need the others).</summary>
    public int MinThreadPoolThreads { get; set; } = 8;

    /// <summary>How often the full health view is re-sent (one snapshot event per virtual service).</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the watchdog looks at the scheduler and every checker.</summary>
    public TimeSpan WatchdogInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A checker is stalled when silent for this many times its longest normal gap (a delay plus a timeout).</summary>
    public double StallFactor { get; set; } = 3;

    /// <summary>The scheduler loop is stalled when it has not woken for this long.</summary>
    public TimeSpan SchedulerStallAfter { get; set; } = TimeSpan.FromSeconds(5);
}
