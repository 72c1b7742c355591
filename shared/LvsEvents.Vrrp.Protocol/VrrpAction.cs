using System.Net;
using LvsEvents.Contracts;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>
/// Something the state machine decided and the edges carry out (socket, netlink, ARP, events). Actions come
/// in execution order: the wire first (advert, addresses, ARP), then the facts to record.
/// </summary>
public abstract record VrrpAction;

/// <summary>Send this advert now (encode it with the IP source and destination the socket uses).</summary>
public sealed record SendAdvertisement(VrrpAdvertisement Advertisement) : VrrpAction
{
    public int Priority => Advertisement.Priority;
}

/// <summary>Add the instance's virtual addresses to their interfaces.</summary>
public sealed record AcquireVirtualAddresses : VrrpAction;

/// <summary>Remove the instance's virtual addresses.</summary>
public sealed record ReleaseVirtualAddresses(VrrpTransitionReason Reason) : VrrpAction;

/// <summary>Why gratuitous ARPs go out.</summary>
public enum GratuitousArpReason
{
    /// <summary>This node just became master (RFC: broadcast gratuitous ARP on the transition).</summary>
    BecameMaster,

    /// <summary>
    /// Another master of our VRID stopped advertising while we stayed master: it announced the VIPs too, so the
    /// LAN's ARP caches may point at it (keepalived #166 leaves them stale).
    /// </summary>
    OtherMasterGone,
}

/// <summary>Send the (repeated, delayed, per <c>garp_master_*</c>) gratuitous ARPs for the instance's addresses.</summary>
public sealed record SendGratuitousArps(GratuitousArpReason Reason) : VrrpAction;

/// <summary>The instance changed state; everything a <see cref="VrrpStateChanged"/> event needs.</summary>
public sealed record StateTransition(
    VrrpState From,
    VrrpState To,
    VrrpTransitionReason Reason,
    int Priority,
    int EffectivePriority,
    VrrpEvidence Evidence) : VrrpAction;

/// <summary>The priority this node advertises changed.</summary>
public sealed record EffectivePriorityChange(int OldPriority, int NewPriority, string Cause) : VrrpAction;

/// <summary>
/// We are master and another master of our VRID with lower or equal priority has kept advertising for more
/// than the configured number of intervals: both probably hold the VIPs. Raised once per episode.
/// </summary>
public sealed record SplitBrainSuspicion(IPAddress PeerAddress, int PeerPriority, int LocalPriority, int IntervalsObserved) : VrrpAction;

/// <summary>A suspected split brain ended: the peer went quiet or yielded (<paramref name="StillMaster"/>), or we yielded.</summary>
public sealed record SplitBrainEnded(IPAddress PeerAddress, int IntervalsObserved, bool StillMaster) : VrrpAction;
