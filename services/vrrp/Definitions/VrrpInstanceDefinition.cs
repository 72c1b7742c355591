using System.Net;
using System.Text;
using LvsEvents.Contracts;
using LvsEvents.Keepalived;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Protocol;

namespace LvsEvents.Vrrp.Definitions;

/// <summary>
/// One <c>vrrp_instance</c>, resolved and checked: everything its runner needs (protocol settings, interface,
/// VIPs with their netlink attributes, ARP timing, tracking, notify scripts, sync group).
/// </summary>
public sealed record VrrpInstanceDefinition
{
    public required string Name { get; init; }
    public required string Interface { get; init; }
    public required byte VirtualRouterId { get; init; }
    public VrrpVersion Version { get; init; } = VrrpVersion.V2;
    public required int Priority { get; init; }
    public required TimeSpan AdvertisementInterval { get; init; }

    /// <summary><c>unicast_src_ip</c> / <c>mcast_src_ip</c>; else the interface's primary address.</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary>What the adverts carry and the instance owns (<c>virtual_ipaddress</c>).</summary>
    public required IReadOnlyList<VirtualAddress> VirtualAddresses { get; init; }

    /// <summary><c>virtual_ipaddress_excluded</c>: owned like the others but not advertised.</summary>
    public IReadOnlyList<VirtualAddress> ExcludedAddresses { get; init; } = [];

    public VrrpState InitialState { get; init; } = VrrpState.Backup;
    public bool Nopreempt { get; init; }
    public TimeSpan PreemptDelay { get; init; }
    public VrrpAuthenticationType AuthenticationType { get; init; }

    /// <summary>The PASS secret; never logged, never in events (see <see cref="Fingerprint"/>).</summary>
    public string? AuthenticationPassword { get; init; }

    public IReadOnlyList<IPAddress> UnicastPeers { get; init; } = [];
    public AddressListMismatchPolicy AddressListMismatch { get; init; } = AddressListMismatchPolicy.Accept;
    public int SplitBrainIntervals { get; init; } = 3;
    public GratuitousArpSettings GratuitousArp { get; init; } = GratuitousArpSettings.KeepalivedDefaults;

    /// <summary>The instance's own interface counts as tracked (weight 0) unless <c>dont_track_primary</c>.</summary>
    public IReadOnlyList<PriorityTrack> Tracks { get; init; } = [];

    public NotifyScripts Notify { get; init; } = NotifyScripts.None;
    public string? SyncGroup { get; init; }
    public required SourceLocation Location { get; init; }

    /// <summary>Every address the instance puts on an interface as master.</summary>
    public IEnumerable<VirtualAddress> OwnedAddresses => VirtualAddresses.Concat(ExcludedAddresses);

    public VrrpInstanceOptions ToProtocolOptions(IPAddress primaryAddress) => new()
    {
        Name = Name,
        VirtualRouterId = VirtualRouterId,
        Version = Version,
        Priority = Priority,
        AdvertisementInterval = AdvertisementInterval,
        PrimaryAddress = primaryAddress,
        VirtualAddresses = VirtualAddresses.Select(v => v.Address).ToList(),
        InitialState = InitialState,
        Nopreempt = Nopreempt,
        PreemptDelay = PreemptDelay,
        AuthenticationType = AuthenticationType,
        AuthenticationPassword = AuthenticationPassword,
        UnicastPeers = UnicastPeers,
        AddressListMismatch = AddressListMismatch,
        SplitBrainIntervals = SplitBrainIntervals,
    };

    /// <summary>
    /// A canonical text of every setting, to tell on a reload whether the instance changed (source locations
    /// are left out: moving a block in the file changes nothing). The password is in it, which is why it is
    /// only ever compared, never shown.
    /// </summary>
    public string Fingerprint()
    {
        var b = new StringBuilder();
        b.AppendJoin('|', Name, Interface, VirtualRouterId, Version, Priority, AdvertisementInterval.Ticks, SourceAddress,
            InitialState, Nopreempt, PreemptDelay.Ticks, AuthenticationType, AuthenticationPassword, AddressListMismatch,
            SplitBrainIntervals, GratuitousArp, Notify, SyncGroup);
        foreach (var list in new[] { VirtualAddresses.Select(Describe), ExcludedAddresses.Select(Describe), UnicastPeers.Select(p => p.ToString()), Tracks.Select(t => t.ToString() + t.Weight + t.Reverse) })
        {
            b.Append("|[").AppendJoin(',', list).Append(']');
        }
        return b.ToString();
    }

    private static string Describe(VirtualAddress a) => $"{a} dev {a.Interface} label {a.Label} brd {a.Broadcast} scope {a.Scope}";
}
