namespace LvsEvents.Keepalived.Model;

/// <summary>An entry of track_interface; weight 0 (default) means the instance goes to FAULT when the interface is down.</summary>
public sealed record TrackedInterface
{
    public required string Name { get; init; }

    public int Weight { get; init; }

    public bool Reverse { get; init; }

    public required SourceLocation Location { get; init; }
}
