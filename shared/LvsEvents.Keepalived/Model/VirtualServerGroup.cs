namespace LvsEvents.Keepalived.Model;

/// <summary>A virtual_server_group: several VIPs/fwmarks sharing one real-server topology.</summary>
public sealed record VirtualServerGroup
{
    public required string Name { get; init; }

    public IReadOnlyList<VirtualServerGroupMember> Members { get; init; } = [];

    public required SourceLocation Location { get; init; }
}
