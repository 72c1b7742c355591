namespace LvsEvents.Contracts;

/// <summary>One real server in a health snapshot: its address, state, weight and how many of its checkers are down.</summary>
public sealed record RealServerHealthEntry(string Endpoint, HealthState State, int Weight, int FailedCheckers);

/// <summary>
/// The full health view of one virtual service, re-sent periodically by the health service so that a consumer that
/// (re)starts can catch up without reading the store. All virtual services of one round share a <see cref="SnapshotId"/>.
/// </summary>
public sealed record VirtualServiceHealthSnapshot : LvsEvent
{
    public required VirtualServiceRef VirtualService { get; init; }
    public required Guid SnapshotId { get; init; }
    /// <summary>How many virtual services the round has (this one included).</summary>
    public required int VirtualServiceCount { get; init; }
    public required bool QuorumUp { get; init; }
    public required int LiveWeight { get; init; }
    public required int Quorum { get; init; }
    public required int Hysteresis { get; init; }
    public bool SorryServerActive { get; init; }
    public IReadOnlyList<RealServerHealthEntry> RealServers { get; init; } = [];
    public override string StreamKey => StreamKeys.VirtualService(VirtualService);
}
