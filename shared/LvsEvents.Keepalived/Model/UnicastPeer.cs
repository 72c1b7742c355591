namespace LvsEvents.Keepalived.Model;

/// <summary>One entry of unicast_peer.</summary>
public sealed record UnicastPeer
{
    public required string Address { get; init; }

    public int? MinTtl { get; init; }

    public int? MaxTtl { get; init; }

    public required SourceLocation Location { get; init; }
}
