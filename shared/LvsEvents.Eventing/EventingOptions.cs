namespace LvsEvents.Eventing;

/// <summary>Settings of the event pipeline, bound from the <c>Eventing</c> section.</summary>
public sealed class EventingOptions
{
    public const string Section = "Eventing";

    /// <summary>The director's id. Defaults to the host name.</summary>
    public string? NodeId { get; set; }

    /// <summary>Where the durable spool lives; one sub-folder per service.</summary>
    public string SpoolDirectory { get; set; } = "/var/lib/lvsevents/spool";

    /// <summary>Most events per bus message.</summary>
    public int MaxBatchEvents { get; set; } = 500;

    /// <summary>How long one publish may wait for the broker's confirm before it is retried.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait between publish attempts while the broker is away.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>On stop, how long the spool publisher goes on delivering what is spooled before it gives up (the rest waits for the next start).</summary>
    public TimeSpan StopDrainTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Spool segment size at which a new file is started.</summary>
    public long SegmentBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>How often a service reports that it lives and how deep its spool is (0: never).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);
}
