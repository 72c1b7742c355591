using System.Net;
using System.Net.Sockets;
using LvsEvents.Contracts;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>One <c>vrrp_instance</c> as the protocol core needs it (interfaces, VIP labels etc. belong to the edges).</summary>
public sealed record VrrpInstanceOptions
{
    public const int OwnerPriority = 255;

    public required string Name { get; init; }
    public required byte VirtualRouterId { get; init; }
    public VrrpVersion Version { get; init; } = VrrpVersion.V2;

    /// <summary>Configured (base) priority, 1–255; 255 means address owner.</summary>
    public required int Priority { get; init; }

    /// <summary>v2: whole seconds 1–255; v3: centiseconds 0.01–40.95 s.</summary>
    public TimeSpan AdvertisementInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The address we send from (keepalived: <c>unicast_src_ip</c> or the interface's primary); the tie-breaker.</summary>
    public required IPAddress PrimaryAddress { get; init; }

    public IReadOnlyList<IPAddress> VirtualAddresses { get; init; } = [];

    /// <summary>keepalived's <c>state MASTER|BACKUP</c>.</summary>
    public VrrpState InitialState { get; init; } = VrrpState.Backup;

    public bool Nopreempt { get; init; }
    public TimeSpan PreemptDelay { get; init; }

    public VrrpAuthenticationType AuthenticationType { get; init; }
    public string? AuthenticationPassword { get; init; }

    /// <summary>keepalived's <c>down_timer_adverts</c>: adverts missed before the master is declared down.</summary>
    public int DownTimerAdverts { get; init; } = 3;

    /// <summary>Adverts from another master with lower or equal priority, beyond which split brain is suspected.</summary>
    public int SplitBrainIntervals { get; init; } = 3;

    /// <summary>Unicast mode (<c>unicast_peer</c>): keepalived skips the TTL check there.</summary>
    public IReadOnlyList<IPAddress> UnicastPeers { get; init; } = [];

    /// <summary>keepalived's <c>check_unicast_src</c>.</summary>
    public bool CheckUnicastSource { get; init; }

    public AddressListMismatchPolicy AddressListMismatch { get; init; } = AddressListMismatchPolicy.Accept;

    /// <summary>
    /// keepalived answers a lower-priority master's advert with one of its own (unless
    /// <c>lower_prio_no_advert</c>) so the other side yields at once.
    /// </summary>
    public bool AdvertOnLowerPriority { get; init; } = true;

    public bool IsAddressOwner => Priority == OwnerPriority;

    /// <summary>Configuration errors: anything here makes the instance unusable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (VirtualRouterId == 0)
            errors.Add("virtual_router_id must be 1-255");
        if (Priority is < 1 or > OwnerPriority)
            errors.Add("priority must be 1-255");
        if (Version is not (VrrpVersion.V2 or VrrpVersion.V3))
            errors.Add("version must be 2 or 3");
        if (Version == VrrpVersion.V2)
        {
            if (AdvertisementInterval.Ticks % TimeSpan.TicksPerSecond != 0 || AdvertisementInterval < TimeSpan.FromSeconds(1) || AdvertisementInterval > TimeSpan.FromSeconds(255))
                errors.Add("VRRPv2 advert_int must be whole seconds 1-255");
            if (AuthenticationType == VrrpAuthenticationType.IpAuthenticationHeader)
                errors.Add("auth_type AH is not supported (it needs IPsec AH header handling); use PASS or none");
            if (AuthenticationType == VrrpAuthenticationType.SimpleText && string.IsNullOrEmpty(AuthenticationPassword))
                errors.Add("auth_type PASS needs auth_pass");
        }
        else
        {
            const long centisecond = TimeSpan.TicksPerMillisecond * 10;
            if (AdvertisementInterval.Ticks % centisecond != 0 || AdvertisementInterval.Ticks < centisecond || AdvertisementInterval.Ticks > VrrpAdvertisement.MaxV3IntervalCentiseconds * centisecond)
                errors.Add("VRRPv3 advert_int must be whole centiseconds 0.01-40.95");
            if (AuthenticationType != VrrpAuthenticationType.None)
                errors.Add("VRRPv3 has no authentication");
        }
        if (PrimaryAddress.AddressFamily != AddressFamily.InterNetwork)
            errors.Add("the primary address must be IPv4");
        if (VirtualAddresses.Count > VrrpAdvertisement.MaxAddresses)
            errors.Add("an advert carries at most 255 addresses");
        if (VirtualAddresses.Any(a => a.AddressFamily != AddressFamily.InterNetwork))
            errors.Add("virtual addresses must be IPv4");
        if (InitialState is not (VrrpState.Backup or VrrpState.Master))
            errors.Add("state must be MASTER or BACKUP");
        if (DownTimerAdverts is < 3 or > 100)
            errors.Add("down_timer_adverts must be 3-100");
        if (SplitBrainIntervals < 1)
            errors.Add("split-brain intervals must be at least 1");
        if (PreemptDelay < TimeSpan.Zero)
            errors.Add("preempt_delay cannot be negative");
        return errors;
    }

    /// <summary>
    /// keepalived's fix-ups of contradictory settings (vrrp.c, vrrp_complete_instance), with the warnings it
    /// logs: an address owner cannot be nopreempt and starts as MASTER; <c>state MASTER</c> clears nopreempt
    /// and preempt_delay; nopreempt clears preempt_delay.
    /// </summary>
    public (VrrpInstanceOptions Options, IReadOnlyList<string> Warnings) Normalize()
    {
        var warnings = new List<string>();
        var o = this;
        if (o.IsAddressOwner && o.Nopreempt)
        {
            warnings.Add($"({Name}) nopreempt is incompatible with priority 255 - resetting nopreempt");
            o = o with { Nopreempt = false };
        }
        if (o.IsAddressOwner && o.InitialState != VrrpState.Master)
            o = o with { InitialState = VrrpState.Master };
        if (o.InitialState == VrrpState.Master)
        {
            if (o.Nopreempt)
            {
                warnings.Add($"({Name}) Warning - nopreempt will not work with initial state MASTER - clearing");
                o = o with { Nopreempt = false };
            }
            if (o.PreemptDelay > TimeSpan.Zero)
            {
                warnings.Add($"({Name}) Warning - preempt delay will not work with initial state MASTER - clearing");
                o = o with { PreemptDelay = TimeSpan.Zero };
            }
        }
        if (o.Nopreempt && o.PreemptDelay > TimeSpan.Zero)
        {
            warnings.Add($"({Name}) preempt_delay is incompatible with nopreempt mode - resetting");
            o = o with { PreemptDelay = TimeSpan.Zero };
        }
        return (o, warnings);
    }

    /// <summary>What this instance's receive path expects of adverts.</summary>
    public AdvertisementExpectations ToExpectations() => new()
    {
        Version = Version,
        VirtualRouterId = VirtualRouterId,
        AdvertisementInterval = AdvertisementInterval,
        VirtualAddresses = VirtualAddresses,
        AuthenticationType = AuthenticationType,
        AuthenticationData = VrrpPassword.ToAuthenticationData(AuthenticationType == VrrpAuthenticationType.SimpleText ? AuthenticationPassword : null),
        CheckTimeToLive = UnicastPeers.Count == 0,
        AddressListMismatch = AddressListMismatch,
        AllowedSources = CheckUnicastSource && UnicastPeers.Count > 0 ? UnicastPeers.ToHashSet() : null,
    };
}
