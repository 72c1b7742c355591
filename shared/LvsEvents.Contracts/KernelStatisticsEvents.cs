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
    double? OutBytesPerSecond)
{
    /// <summary>
    /// Per destination (real server): what the recovery service's canary watches. Empty in events written before it
    /// was added.
    /// </summary>
    public IReadOnlyList<DestinationTraffic> RealServers { get; init; } = [];
}

/// <summary>
/// One destination of a virtual service over the last poll interval. Counts are null where the backend cannot tell,
/// and the per-interval ones (new, unanswered) on the first poll.
/// </summary>
/// <param name="Address">The real server's address.</param>
/// <param name="Port">The real server's port.</param>
/// <param name="Weight">Its weight in the kernel table at the poll.</param>
/// <param name="ActiveConnections">Connections established now.</param>
/// <param name="InactiveConnections">Connections tracked now in any other state (handshake, closing, UDP).</param>
/// <param name="NewConnections">Connections sent to it since the previous poll.</param>
/// <param name="ConnectionsPerSecond"><paramref name="NewConnections"/> per second of the interval.</param>
/// <param name="UnansweredConnections">
/// Connections found still without a single reply packet (conntrack status without IPS_SEEN_REPLY) one poll after they
/// were first seen: counted at this poll, so they were new one poll earlier. nftables TCP/SCTP services only; null
/// under IPVS, whose counters have no such figure (its connection table is not conntrack's and keeps no "reply seen"
/// state), and for UDP, whose flows need not be answered.
/// </param>
public sealed record DestinationTraffic(
    string Address,
    int Port,
    int Weight,
    long? ActiveConnections,
    long? InactiveConnections,
    long? NewConnections,
    double? ConnectionsPerSecond,
    long? UnansweredConnections);

/// <summary>
/// The IPVS writer's periodic reading of the kernel table's statistics on one director (one per poll): small, so the
/// monitor can alert on it (total active connections) and the recovery service's canary can read the new server's
/// traffic (per-destination connections, and under nftables the ones left unanswered). Packets and bytes per
/// destination go to InfluxDB and Prometheus only.
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
