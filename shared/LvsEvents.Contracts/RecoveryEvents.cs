namespace LvsEvents.Contracts;

/// <summary>What an automated recovery policy decided to do.</summary>
public enum RecoveryAction
{
    /// <summary>Slow start: a recovered real server starts its weight ramp.</summary>
    RampStarted,
    /// <summary>Slow start: the ramp moved to its next step.</summary>
    RampStep,
    /// <summary>Slow start: the ramp reached full weight and handed the server back to configuration and health.</summary>
    RampCompleted,
    /// <summary>Slow start: the server went down again during its ramp.</summary>
    RampCancelled,
    /// <summary>Flap hold: too many transitions in the window; the server is held out at weight 0.</summary>
    HeldOut,
    /// <summary>Flap hold: the server stayed up for the stability period and is released (into a ramp).</summary>
    Released,
    /// <summary>Split brain: this node should yield mastership.</summary>
    Yield,
    /// <summary>Split brain: this node keeps mastership; the peer should yield.</summary>
    Stay,
    /// <summary>Canary: started, at its first step.</summary>
    CanaryStarted,
    /// <summary>Canary: moved to its next traffic share.</summary>
    CanaryStep,
    CanaryPaused,
    CanaryResumed,
    /// <summary>Canary: the new server held 100 % for an interval (old servers drained if asked).</summary>
    CanaryCompleted,
    /// <summary>Canary: the new server failed; back to weight 0, the old servers restored.</summary>
    CanaryRolledBack,
    /// <summary>Canary: stopped by the operator; rolled back.</summary>
    CanaryAborted,
    /// <summary>Canary: the start command was refused.</summary>
    CanaryRejected,
}

/// <summary>
/// One decision of the recovery service, with the events that caused it. Commands issued for it carry the same
/// correlation id and this decision's id as causation, so a post-mortem can walk from a command to its reason.
/// </summary>
public sealed record RecoveryDecision : LvsEvent
{
    /// <summary>The policy that decided: <c>slow-start</c>, <c>flap-hold</c>, <c>split-brain</c>.</summary>
    public required string Policy { get; init; }
    public required RecoveryAction Action { get; init; }
    /// <summary>What it is about, printed: a real server, or <c>vrrp:NODE:INSTANCE</c>.</summary>
    public required string Subject { get; init; }
    /// <summary>The real server, when the subject is one.</summary>
    public RealServerRef? RealServer { get; init; }
    /// <summary>The VRRP instance, when the subject is one.</summary>
    public string? Instance { get; init; }
    public required string Reason { get; init; }
    /// <summary>Event ids that caused the decision, oldest first.</summary>
    public IReadOnlyList<Guid> CausingEvents { get; init; } = [];
    /// <summary>The weight the decision asks for, where it sets one.</summary>
    public int? Weight { get; init; }
    /// <summary>Set when the decision deserves an operator's attention (a held-out flapping server, a resignation).</summary>
    public AlertSeverity? Alert { get; init; }

    public override string StreamKey =>
        RealServer is not null ? StreamKeys.RealServer(RealServer)
        : Instance is not null ? StreamKeys.VrrpInstance(NodeId, Instance)
        : StreamKeys.Node(NodeId);
}

/// <summary>How a node gives up VRRP mastership.</summary>
public enum VrrpResignMode
{
    /// <summary>Advertise a lower priority (the peer preempts or stays master).</summary>
    PriorityDrop,
    /// <summary>Stop the instance (advertise priority 0 and release the addresses).</summary>
    Stop,
}

/// <summary>
/// Ask the VRRP service on <see cref="TargetNode"/> to give up mastership of an instance (split-brain policy), or,
/// with <see cref="Restore"/>, to take its configured priority back once the partition healed.
/// </summary>
public sealed record VrrpResignCommand : LvsCommand
{
    public required string TargetNode { get; init; }
    public required string Instance { get; init; }
    public required int VirtualRouterId { get; init; }
    public required VrrpResignMode Mode { get; init; }
    /// <summary>The priority to advertise with <see cref="VrrpResignMode.PriorityDrop"/>.</summary>
    public int? Priority { get; init; }
    /// <summary>True: undo an earlier resignation.</summary>
    public bool Restore { get; init; }
    public override string StreamKey => StreamKeys.VrrpInstance(TargetNode, Instance);
}
