namespace LvsEvents.Keepalived.Model;

/// <summary>A whole keepalived configuration after includes, conditionals and macros.</summary>
public sealed record KeepalivedConfiguration
{
    public GlobalDefinitions GlobalDefinitions { get; init; } = new();

    public IReadOnlyList<VrrpScript> VrrpScripts { get; init; } = [];

    public IReadOnlyList<VrrpSyncGroup> VrrpSyncGroups { get; init; } = [];

    public IReadOnlyList<VrrpInstance> VrrpInstances { get; init; } = [];

    public IReadOnlyList<VirtualServerGroup> VirtualServerGroups { get; init; } = [];

    public IReadOnlyList<VirtualServer> VirtualServers { get; init; } = [];

    /// <summary>Top-level blocks keepalived documents that this model does not type (static_routes, bfd_instance, ...).</summary>
    public IReadOnlyList<PassThroughSetting> OtherSettings { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public int RealServerCount => VirtualServers.Sum(v => v.RealServers.Count);
}
