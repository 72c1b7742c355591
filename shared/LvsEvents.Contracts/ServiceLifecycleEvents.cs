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
