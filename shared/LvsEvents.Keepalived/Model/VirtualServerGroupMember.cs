namespace LvsEvents.Keepalived.Model;

/// <summary>One line of a virtual_server_group: an address (or range) with optional port, or a fwmark.</summary>
public sealed record VirtualServerGroupMember
{
    /// <summary>An address, or a range as written (<c>10.0.0.1-10</c>, <c>10.0.0.0/29</c>); null for a fwmark.</summary>
    public string? Address { get; init; }

    public int? Port { get; init; }

    public long? Fwmark { get; init; }

    /// <summary>inet or inet6 for a fwmark entry.</summary>
    public string? Family { get; init; }

    public required SourceLocation Location { get; init; }
}
