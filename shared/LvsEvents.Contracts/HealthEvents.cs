namespace LvsEvents.Contracts;

/// <summary>How a probe failed, so that operators can tell a dead host from a sick application.</summary>
public enum ProbeErrorClass
{
    None,
    Refused,
    Timeout,
    Unreachable,
    BadStatus,
    DigestMismatch,
    TlsError,
    ProtocolError,
    ScriptFailed,
    ScriptTimeout,
    Other,
}

public enum HealthState
{
    Unknown,
    Up,
    Down,
}

/// <summary>One health probe of one real server by one checker.</summary>
public sealed record ProbeCompleted : LvsEvent
{
    public required RealServerRef RealServer { get; init; }
    /// <summary>The checker keyword with its target, e.g. <c>HTTP_GET 192.168.1.22:80/health</c>.</summary>
    public required string Checker { get; init; }
    public required bool Success { get; init; }
    public required TimeSpan Latency { get; init; }
    public ProbeErrorClass Error { get; init; }
    public string? Detail { get; init; }
    /// <summary>For MISC_CHECK with misc_dynamic: the weight the script asked for.</summary>
    public int? DynamicWeight { get; init; }
    public override string StreamKey => StreamKeys.RealServer(RealServer);
}

/// <summary>A real server went up or down, with the probes that decided it.</summary>
public sealed record RealServerHealthChanged : LvsEvent
{
    public required RealServerRef RealServer { get; init; }
    public required HealthState From { get; init; }
    public required HealthState To { get; init; }
    public required string Checker { get; init; }
    /// <summary>Event ids of the probes that caused the transition, oldest first.</summary>
    public IReadOnlyList<Guid> CausingProbes { get; init; } = [];
    public string? Reason { get; init; }
    public override string StreamKey => StreamKeys.RealServer(RealServer);
}

/// <summary>A virtual service crossed its quorum (sum of weights of the live real servers).</summary>
public sealed record VirtualServiceQuorumChanged : LvsEvent
{
    public required VirtualServiceRef VirtualService { get; init; }
    public required bool Up { get; init; }
    public required int LiveWeight { get; init; }
    public required int Quorum { get; init; }
    public required int Hysteresis { get; init; }
    public bool SorryServerActive { get; init; }
    public override string StreamKey => StreamKeys.VirtualService(VirtualService);
}

/// <summary>The watchdog found a checker loop, or the probes of a real server, stalled.</summary>
public sealed record HealthCheckerStalled : LvsEvent
{
    public required string Checker { get; init; }
    public RealServerRef? RealServer { get; init; }
    public required TimeSpan SilentFor { get; init; }
    public required TimeSpan Expected { get; init; }
    public override string StreamKey => RealServer is null ? StreamKeys.Node(NodeId) : StreamKeys.RealServer(RealServer);
}
