namespace LvsEvents.Contracts;

/// <summary>
/// Start a canary (gray) release of <see cref="Server"/>, a real server of its virtual service that is in the
/// configuration (typically with weight 0, so that health checks it): recovery moves its traffic share through
/// <see cref="Steps"/> percent of the service's total weight, one step per <see cref="Interval"/>, and rolls back when
/// it fails. Sent by <c>lvsctl canary start</c>; its event id is the canary's correlation id.
/// </summary>
public sealed record CanaryStartCommand : LvsCommand
{
    public required RealServerRef Server { get; init; }
    /// <summary>Traffic share of the new server per step, percent, ascending, the last 100.</summary>
    public required IReadOnlyList<int> Steps { get; init; }
    public required TimeSpan Interval { get; init; }
    /// <summary>Highest tolerated share of failed probes of the new server within a step (0..1).</summary>
    public required double MaxErrorRate { get; init; }
    /// <summary>Drain the old servers once the new one held 100 % for an interval.</summary>
    public bool RemoveOld { get; init; }
    /// <summary>The director whose recovery runs it; null: every director's.</summary>
    public string? TargetNode { get; init; }
    public override string StreamKey => StreamKeys.VirtualService(Server.VirtualService);
}

public enum CanaryControl
{
    /// <summary>Answer with a <see cref="CanaryStatus"/> (no change).</summary>
    Status,
    Pause,
    Resume,
    /// <summary>Roll back now: the new server to weight 0, the old ones restored.</summary>
    Abort,
}

/// <summary>Query or steer the canary of a virtual service (<c>lvsctl canary status|pause|resume|abort</c>).</summary>
public sealed record CanaryControlCommand : LvsCommand
{
    public required VirtualServiceRef VirtualService { get; init; }
    public required CanaryControl Action { get; init; }
    public string? TargetNode { get; init; }
    public override string StreamKey => StreamKeys.VirtualService(VirtualService);
}

public enum CanaryState
{
    /// <summary>No canary known for the service.</summary>
    None,
    Running,
    Paused,
    Completed,
    RolledBack,
    Aborted,
    /// <summary>The start command was refused (see the reason).</summary>
    Rejected,
}

/// <summary>A real server's weight as the canary set it.</summary>
public sealed record CanaryWeight(RealServerRef Server, int Weight);

/// <summary>
/// Where a canary stands: emitted by recovery at each change (correlation id = the start command) and in answer to a
/// control command (causation id = that command).
/// </summary>
public sealed record CanaryStatus : LvsEvent
{
    public required VirtualServiceRef VirtualService { get; init; }
    public RealServerRef? Server { get; init; }
    public required CanaryState State { get; init; }
    public IReadOnlyList<int> Steps { get; init; } = [];
    /// <summary>Index into <see cref="Steps"/> of the step applied, -1 before the first.</summary>
    public int Step { get; init; } = -1;
    /// <summary>The new server's share of the total weight, as set (0..1).</summary>
    public double Share { get; init; }
    public IReadOnlyList<CanaryWeight> Weights { get; init; } = [];
    public int Probes { get; init; }
    public int FailedProbes { get; init; }
    /// <summary>Failed probes / probes of the new server within the current step; null before any probe.</summary>
    public double? ErrorRate { get; init; }
    public double MaxErrorRate { get; init; }
    public DateTimeOffset? NextStepAt { get; init; }
    public string? Reason { get; init; }
    public override string StreamKey => StreamKeys.VirtualService(VirtualService);
}
