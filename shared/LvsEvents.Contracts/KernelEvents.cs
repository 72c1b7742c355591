namespace LvsEvents.Contracts;

public enum KernelOperation
{
    AddService,
    EditService,
    DeleteService,
    AddDestination,
    EditDestination,
    DeleteDestination,
    SetTimeouts,
    ReplaceTable,
}

/// <summary>The IPVS writer changed the kernel's load-balancing table.</summary>
public sealed record KernelRuleApplied : LvsEvent
{
    /// <summary><c>ipvs</c> or <c>nftables</c>.</summary>
    public required string Backend { get; init; }
    public required KernelOperation Operation { get; init; }
    public required VirtualServiceRef VirtualService { get; init; }
    public RealServerRef? RealServer { get; init; }
    /// <summary>The rule before, in <c>ipvsadm -S -n</c> form, or null when added.</summary>
    public string? Before { get; init; }
    /// <summary>The rule after, in <c>ipvsadm -S -n</c> form, or null when deleted.</summary>
    public string? After { get; init; }
    public override string StreamKey => StreamKeys.VirtualService(VirtualService);
}

/// <summary>A full resync found the kernel differing from what it should be, and corrected it.</summary>
public sealed record KernelDriftCorrected : LvsEvent
{
    public required string Backend { get; init; }
    /// <summary>Each difference found, e.g. <c>-a -t 10.0.0.1:80 -r 10.0.0.9:80 -m -w 1: not in configuration</c>.</summary>
    public required IReadOnlyList<string> Differences { get; init; }
    public override string StreamKey => StreamKeys.Node(NodeId);
}
