namespace LvsEvents.Contracts;

/// <summary>The VRRP states of RFC 3768/5798, plus Fault for tracked failures as keepalived has it.</summary>
public enum VrrpState
{
    Initialize,
    Backup,
    Master,
    Fault,
    Stopped,
}

/// <summary>Why a VRRP instance changed state: the question keepalived cannot answer after the fact.</summary>
public enum VrrpTransitionReason
{
    Startup,
    MasterDownTimerExpired,
    Preempted,
    HigherPriorityAdvertSeen,
    PriorityZeroReceived,
    ScriptFailed,
    ScriptRecovered,
    InterfaceDown,
    InterfaceUp,
    SyncGroupMemberChanged,
    ConfigurationChanged,
    Shutdown,
    OperatorCommand,
}

/// <summary>What the node had seen when it decided: the last advert and from whom, and adverts missed.</summary>
public sealed record VrrpEvidence(
    string? LastAdvertFrom,
    int? LastAdvertPriority,
    DateTimeOffset? LastAdvertAt,
    int MissedAdverts,
    TimeSpan? MasterDownInterval);

/// <summary>A VRRP instance changed state on this node.</summary>
public sealed record VrrpStateChanged : LvsEvent
{
    public required string Instance { get; init; }
    public required int VirtualRouterId { get; init; }
    public required VrrpState From { get; init; }
    public required VrrpState To { get; init; }
    public required VrrpTransitionReason Reason { get; init; }
    public required int Priority { get; init; }
    public int EffectivePriority { get; init; }
    public VrrpEvidence? Evidence { get; init; }
    public override string StreamKey => StreamKeys.VrrpInstance(NodeId, Instance);
}

/// <summary>The priority this node advertises for an instance changed (tracked script or interface).</summary>
public sealed record VrrpPriorityChanged : LvsEvent
{
    public required string Instance { get; init; }
    public required int VirtualRouterId { get; init; }
    public required int OldPriority { get; init; }
    public required int NewPriority { get; init; }
    public required string Cause { get; init; }
    public override string StreamKey => StreamKeys.VrrpInstance(NodeId, Instance);
}

/// <summary>This node added a virtual IP to an interface.</summary>
public sealed record VipAcquired : LvsEvent
{
    public required string Instance { get; init; }
    public required int VirtualRouterId { get; init; }
    /// <summary>Address with prefix, e.g. <c>192.168.1.100/24</c>.</summary>
    public required string Address { get; init; }
    public required string Interface { get; init; }
    public string? Label { get; init; }
    public override string StreamKey => StreamKeys.VrrpInstance(NodeId, Instance);
}

/// <summary>This node removed a virtual IP from an interface.</summary>
public sealed record VipReleased : LvsEvent
{
    public required string Instance { get; init; }
    public required int VirtualRouterId { get; init; }
    public required string Address { get; init; }
    public required string Interface { get; init; }
    public required string Reason { get; init; }
    public override string StreamKey => StreamKeys.VrrpInstance(NodeId, Instance);
}

/// <summary>Gratuitous ARPs were sent for an instance's addresses (on becoming master, refresh, or after a split brain heals).</summary>
public sealed record GratuitousArpSent : LvsEvent
{
    public required string Instance { get; init; }
    public required IReadOnlyList<string> Addresses { get; init; }
    public required string Interface { get; init; }
    public required int Count { get; init; }
    public required string Reason { get; init; }
    public override string StreamKey => StreamKeys.VrrpInstance(NodeId, Instance);
}

/// <summary>
/// This node is master and keeps receiving adverts from another master of the same VRID with lower or
/// equal priority: both hold the VIP.
/// </summary>
public sealed record SplitBrainSuspected : LvsEvent
{
    public required string Instance { get; init; }
    public required int VirtualRouterId { get; init; }
    public required string PeerAddress { get; init; }
    public required int PeerPriority { get; init; }
    public required int LocalPriority { get; init; }
    public required int IntervalsObserved { get; init; }
    public override string StreamKey => StreamKeys.VrrpInstance(NodeId, Instance);
}
