namespace LvsEvents.Contracts;

public enum AlertSeverity
{
    Info,
    Warning,
    Critical,
}

/// <summary>An alert rule started firing. One per episode: it fires once and later resolves.</summary>
public sealed record AlertRaised : LvsEvent
{
    /// <summary>Identifies the episode: rule plus subject, e.g. <c>real-server-weight-zero:TCP/10.0.0.1:80-&gt;10.0.0.9:80</c>.</summary>
    public required string AlertKey { get; init; }
    public required string Rule { get; init; }
    public required AlertSeverity Severity { get; init; }
    public required string Subject { get; init; }
    public required string Message { get; init; }
    public override string StreamKey => StreamKeys.Node(NodeId);
}

/// <summary>The condition behind an alert no longer holds.</summary>
public sealed record AlertResolved : LvsEvent
{
    public required string AlertKey { get; init; }
    public required string Rule { get; init; }
    public required string Subject { get; init; }
    public required TimeSpan Duration { get; init; }
    public override string StreamKey => StreamKeys.Node(NodeId);
}
