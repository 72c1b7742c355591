namespace LvsEvents.Keepalived.Model;

/// <summary>One line of virtual_ipaddress or virtual_ipaddress_excluded: <c>ADDR[/MASK] [brd] [dev] [scope] [label] ...</c>.</summary>
public sealed record VirtualIpAddress
{
    public required string Address { get; init; }

    public int? PrefixLength { get; init; }

    public string? Broadcast { get; init; }

    public string? Device { get; init; }

    public string? Label { get; init; }

    public string? Scope { get; init; }

    public string? Peer { get; init; }

    public bool NoTrack { get; init; }

    /// <summary>Other ip-address options (home, -nodad, noprefixroute, preferred_lft N, ...), verbatim.</summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    public required SourceLocation Location { get; init; }

    public override string ToString() => PrefixLength is null ? Address : $"{Address}/{PrefixLength}";
}
