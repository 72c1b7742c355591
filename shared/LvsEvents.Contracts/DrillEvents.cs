namespace LvsEvents.Contracts;

/// <summary>The failure drills <c>lvsctl drill</c> runs (the article's drill procedure).</summary>
public enum DrillKind
{
    /// <summary>The master of an instance stops advertising and drops its VIPs, as a crash would (no priority 0).</summary>
    MasterFailure,
    /// <summary>The directors ignore each other's adverts: both become master (split brain), recovery must settle it.</summary>
    Partition,
    /// <summary>One real server's health probes fail, as if it went down.</summary>
    BackendOutage,
}

/// <summary>
/// Asks the services to inject a failure for <see cref="Duration"/>, then to undo it. Services act on it only where the
/// operator allows drills (<c>Drills:Allowed</c>); each answers with a <see cref="DrillStep"/> (injected, refused, ended).
/// The command's event id is the drill's id: every step carries it as correlation id.
/// </summary>
public sealed record DrillCommand : LvsCommand
{
    public required DrillKind Drill { get; init; }
    public required TimeSpan Duration { get; init; }
    /// <summary>The VRRP instance (master-failure, partition).</summary>
    public string? Instance { get; init; }
    /// <summary>The real server (backend-outage).</summary>
    public RealServerRef? RealServer { get; init; }
    /// <summary>
    /// The directors the drill is for (those the store shows running the instance); null for every director that
    /// hears it. Several clusters can share one bus and name their instances alike: only these act or answer.
    /// </summary>
    public IReadOnlyList<string>? Nodes { get; init; }
    public override string StreamKey => RealServer is not null ? StreamKeys.RealServer(RealServer) : StreamKeys.Node(NodeId);

    /// <summary>Whether the director <paramref name="nodeId"/> is one the drill is for.</summary>
    public bool IsFor(string nodeId) => Nodes is null || Nodes.Contains(nodeId, StringComparer.Ordinal);
}

/// <summary>What a service did for a drill.</summary>
public enum DrillStepKind
{
    /// <summary>The failure is in effect on this node.</summary>
    Injected,
    /// <summary>The failure was undone on this node.</summary>
    Ended,
    /// <summary>This node will not take part (drills not allowed here); <see cref="DrillStep.Detail"/> says why.</summary>
    Refused,
}

/// <summary>A service's answer to a <see cref="DrillCommand"/>; correlation id = the drill's id.</summary>
public sealed record DrillStep : LvsEvent
{
    public required Guid DrillId { get; init; }
    public required DrillKind Drill { get; init; }
    public required DrillStepKind Step { get; init; }
    public string? Instance { get; init; }
    public RealServerRef? RealServer { get; init; }
    public required string Detail { get; init; }
    public override string StreamKey =>
        RealServer is not null ? StreamKeys.RealServer(RealServer)
        : Instance is not null ? StreamKeys.VrrpInstance(NodeId, Instance)
        : StreamKeys.Node(NodeId);
}
