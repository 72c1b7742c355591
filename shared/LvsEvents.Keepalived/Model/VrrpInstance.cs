namespace LvsEvents.Keepalived.Model;

/// <summary>A vrrp_instance block. GARP settings left unset take the global_defs vrrp_garp_* values.</summary>
public sealed record VrrpInstance
{
    public required string Name { get; init; }

    /// <summary>Initial state; keepalived starts as BACKUP when none is given.</summary>
    public VrrpState State { get; init; } = VrrpState.Backup;

    public string? Interface { get; init; }

    /// <summary>1..255; required.</summary>
    public int? VirtualRouterId { get; init; }

    /// <summary>1..255, default 100.</summary>
    public int Priority { get; init; } = 100;

    /// <summary>Seconds, default 1; VRRPv2 needs whole seconds.</summary>
    public double AdvertInt { get; init; } = 1;

    /// <summary>2 or 3; defaults to global_defs vrrp_version (2).</summary>
    public int Version { get; init; } = 2;

    public VrrpAuthentication? Authentication { get; init; }

    public IReadOnlyList<VirtualIpAddress> VirtualIpAddresses { get; init; } = [];

    public IReadOnlyList<VirtualIpAddress> ExcludedVirtualIpAddresses { get; init; } = [];

    public string? UnicastSourceIp { get; init; }

    public string? McastSourceIp { get; init; }

    public IReadOnlyList<UnicastPeer> UnicastPeers { get; init; } = [];

    public IReadOnlyList<TrackedScript> TrackScripts { get; init; } = [];

    public IReadOnlyList<TrackedInterface> TrackInterfaces { get; init; } = [];

    public bool NoPreempt { get; init; }

    /// <summary>Seconds, 0..1000, default 0.</summary>
    public double PreemptDelay { get; init; }

    /// <summary>Accept mode: true for accept, false for no_accept; keepalived accepts unless strict mode is on.</summary>
    public bool Accept { get; init; } = true;

    public bool DontTrackPrimary { get; init; }

    public int GarpMasterDelay { get; init; } = 5;

    public int GarpMasterRepeat { get; init; } = 5;

    public int GarpMasterRefresh { get; init; }

    public int GarpMasterRefreshRepeat { get; init; } = 1;

    public ScriptInvocation? NotifyMaster { get; init; }

    public ScriptInvocation? NotifyBackup { get; init; }

    public ScriptInvocation? NotifyFault { get; init; }

    public ScriptInvocation? NotifyStop { get; init; }

    public ScriptInvocation? Notify { get; init; }

    public bool? SmtpAlert { get; init; }

    public IReadOnlyList<PassThroughSetting> OtherSettings { get; init; } = [];

    public required SourceLocation Location { get; init; }
}
