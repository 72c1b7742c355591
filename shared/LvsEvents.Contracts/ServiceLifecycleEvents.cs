namespace LvsEvents.Contracts;

/// <summary>A service process started (or restarted) on a node.</summary>
public sealed record ServiceStarted : LvsEvent
{
    public required string Version { get; init; }
    public string? ConfigurationFile { get; init; }
    public int ProcessId { get; init; }
    public override string StreamKey => StreamKeys.Node(NodeId);
}

/// <summary>A service process is stopping (signal or operator); the last event it emits.</summary>
public sealed record ServiceStopping : LvsEvent
{
    public required string Reason { get; init; }
    public override string StreamKey => StreamKeys.Node(NodeId);
}

/// <summary>
/// A service is alive, every <c>Eventing:HeartbeatInterval</c>: how many of its events still wait in its spool
/// for the bus (a growing number means the bus is away or too slow; the monitor alerts on it).
/// </summary>
public sealed record ServiceHeartbeat : LvsEvent
{
    public required long SpoolDepth { get; init; }
    public required TimeSpan Uptime { get; init; }
    public override string StreamKey => StreamKeys.Node(NodeId);
}
