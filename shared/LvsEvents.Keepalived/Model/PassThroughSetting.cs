namespace LvsEvents.Keepalived.Model;

/// <summary>
/// A keyword keepalived documents but this model does not type (e.g. use_vmac, vrrp_iptables, static_routes).
/// Kept verbatim so that show and diff still see it.
/// </summary>
public sealed record PassThroughSetting
{
    public required string Keyword { get; init; }

    public required IReadOnlyList<string> Arguments { get; init; }

    public IReadOnlyList<PassThroughSetting>? Block { get; init; }

    public required SourceLocation Location { get; init; }
}
