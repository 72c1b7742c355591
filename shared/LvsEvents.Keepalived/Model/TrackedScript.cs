namespace LvsEvents.Keepalived.Model;

/// <summary>An entry of track_script: a vrrp_script name and an optional weight overriding the script's own.</summary>
public sealed record TrackedScript
{
    public required string Name { get; init; }

    public int? Weight { get; init; }

    public bool Reverse { get; init; }

    public required SourceLocation Location { get; init; }
}
