namespace LvsEvents.Contracts;

/// <summary>A service applied a configuration (at start or on reload). Secrets are redacted in the diff.</summary>
public sealed record ConfigurationApplied : LvsEvent
{
    public required string File { get; init; }
    /// <summary>SHA-256 of the normalized, redacted configuration: equal hashes, equal configurations.</summary>
    public required string Hash { get; init; }
    public required IReadOnlyList<ConfigurationChange> Changes { get; init; }
    public override string StreamKey => StreamKeys.Node(NodeId);
}

/// <summary>A configuration was rejected whole; the running one stays.</summary>
public sealed record ConfigurationRejected : LvsEvent
{
    public required string File { get; init; }
    /// <summary>Each problem as <c>file:line:col: message</c>.</summary>
    public required IReadOnlyList<string> Errors { get; init; }
    public override string StreamKey => StreamKeys.Node(NodeId);
}
