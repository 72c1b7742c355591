namespace LvsEvents.Keepalived.Model;

/// <summary>The sorry_server used when the quorum is lost.</summary>
public sealed record SorryServer
{
    public required string Address { get; init; }

    public int? Port { get; init; }

    public required SourceLocation Location { get; init; }
}
