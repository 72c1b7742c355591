namespace LvsEvents.Keepalived.Model;

/// <summary>A vrrp_sync_group: instances that change state together.</summary>
public sealed record VrrpSyncGroup
{
    public required string Name { get; init; }

    public IReadOnlyList<string> Members { get; init; } = [];

    public IReadOnlyList<TrackedScript> TrackScripts { get; init; } = [];

    public IReadOnlyList<TrackedInterface> TrackInterfaces { get; init; } = [];

    public ScriptInvocation? NotifyMaster { get; init; }

    public ScriptInvocation? NotifyBackup { get; init; }

    public ScriptInvocation? NotifyFault { get; init; }

    public ScriptInvocation? NotifyStop { get; init; }

    public ScriptInvocation? Notify { get; init; }

    public bool? SmtpAlert { get; init; }

    public IReadOnlyList<PassThroughSetting> OtherSettings { get; init; } = [];

    public required SourceLocation Location { get; init; }

    /// <summary>Where each member name was written, for located errors.</summary>
    internal IReadOnlyList<SourceLocation> MemberLocations { get; init; } = [];
}
