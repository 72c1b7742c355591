namespace LvsEvents.Contracts;

/// <summary>
/// One virtual service's traffic as the kernel counts it (<c>ipvsadm -Ln --stats --rate</c>), summed over its
/// destinations. Null where the backend cannot count it (nftables without conntrack accounting has no packets or bytes).
/// Rates are per second over the last poll interval, null on the first poll.
/// </summary>
public sealed record VirtualServiceTraffic(
    VirtualServiceRef VirtualService,
    int Destinations,
    long? ActiveConnections,
    long? InactiveConnections,
    long? Connections,
    double? ConnectionsPerSecond,
    double? InPacketsPerSecond,
    double? OutPacketsPerSecond,
    double? InBytesPerSecond,
    double? OutBytesPerSecond);

/// <summary>
/// The IPVS writer's periodic reading of the kernel table's statistics on one director (one per poll): small, so the
/// monitor can alert on it (total active connections) and the recovery service can read it. Per destination numbers go
/// to InfluxDB and Prometheus only.
/// </summary>
public sealed record KernelStatisticsReported : LvsEvent
{
    /// <summary><c>ipvs</c> or <c>nftables</c>.</summary>
    public required string Backend { get; init; }
    /// <summary>The time the rates are averaged over (the poll interval as it really was).</summary>
    public TimeSpan Interval { get; init; }
    /// <summary>Active connections of every virtual service together; null when the backend counted none.</summary>
    public long? TotalActiveConnections { get; init; }
    public IReadOnlyList<VirtualServiceTraffic> Services { get; init; } = [];
    public override string StreamKey => StreamKeys.Node(NodeId);
}
