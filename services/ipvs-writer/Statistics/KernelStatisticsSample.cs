using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Table;

namespace LvsEvents.IpvsWriter.Statistics;

/// <summary>Per-second rates over one poll interval, as <c>ipvsadm -Ln --rate</c> shows them (CPS, InPPS, OutPPS, InBPS, OutBPS).</summary>
public sealed record TrafficRates(
    double? ConnectionsPerSecond,
    double? InPacketsPerSecond,
    double? OutPacketsPerSecond,
    double? InBytesPerSecond,
    double? OutBytesPerSecond);

/// <summary>One destination's counters (cumulative, and current connection counts) and its rates (null on the first poll).</summary>
public sealed record DestinationSample(DestinationKey Key, int Weight, TrafficStatistics Counters, TrafficRates? Rates)
{
    /// <summary>The InfluxDB tag and Prometheus label value, as the monitor tags real servers: <c>address:port</c>.</summary>
    public string RealServer => $"{Key.Address}:{Key.Port}";

    /// <summary>Connections left unanswered so far (cumulative, see <see cref="ConntrackCounters"/>); null where not counted (IPVS).</summary>
    public long? Unanswered { get; init; }

    /// <summary>Connections since the previous reading; null on the first poll or when not counted.</summary>
    public long? NewConnections { get; init; }

    /// <summary>Connections judged unanswered since the previous reading; null on the first poll or when not counted.</summary>
    public long? NewUnanswered { get; init; }
}

/// <summary>One virtual service: counters where the backend has them, else the sums of its destinations'.</summary>
public sealed record ServiceSample(ServiceKey Key, TrafficStatistics Counters, TrafficRates? Rates, IReadOnlyList<DestinationSample> Destinations)
{
    public VirtualServiceRef Ref => Key.ToRef();
}

/// <summary>
/// One reading of the kernel table's statistics, with rates computed against the previous reading. Counters that went
/// back (a service rewritten, a destination re-added) restarted: the rate counts from 0.
/// </summary>
public sealed record KernelStatisticsSample(DateTimeOffset At, string Backend, TimeSpan? Interval, IReadOnlyList<ServiceSample> Services)
{
    /// <summary>Active connections of all services together; null when none was counted.</summary>
    public long? TotalActiveConnections => Sum(Services.Select(s => s.Counters.ActiveConnections));

    /// <param name="unanswered">Per destination, the connections left unanswered so far (cumulative), where counted (absent: null).</param>
    public static KernelStatisticsSample From(KernelTable table, string backend, DateTimeOffset at, KernelStatisticsSample? previous,
        IReadOnlyDictionary<(ServiceKey, DestinationKey), long>? unanswered = null)
    {
        var interval = previous is null || at <= previous.At ? (TimeSpan?)null : at - previous.At;
        var before = previous?.Services.ToDictionary(s => s.Key);
        var services = new List<ServiceSample>(table.Services.Count);
        foreach (var service in table.Services.Values)
        {
            var old = before?.GetValueOrDefault(service.Key);
            var oldDestinations = old?.Destinations.ToDictionary(d => d.Key);
            var destinations = new List<DestinationSample>(service.Destinations.Count);
            foreach (var destination in service.Destinations.Values)
            {
                var counters = table.DestinationStatistics.GetValueOrDefault((service.Key, destination.Key)) ?? new TrafficStatistics(null);
                var earlier = oldDestinations?.GetValueOrDefault(destination.Key);
                long? unansweredSoFar = unanswered is not null && unanswered.TryGetValue((service.Key, destination.Key), out var u) ? u : null;
                destinations.Add(new DestinationSample(destination.Key, destination.Weight, counters, Rates(counters, earlier?.Counters, interval))
                {
                    Unanswered = unansweredSoFar,
                    NewConnections = interval is null ? null : Delta(counters.Connections, earlier?.Counters.Connections),
                    NewUnanswered = interval is null ? null : Delta(unansweredSoFar, earlier?.Unanswered),
                });
            }

            var own = table.ServiceStatistics.GetValueOrDefault(service.Key) ?? new TrafficStatistics(null);
            var parts = destinations.Select(d => d.Counters).ToList();
            var total = new TrafficStatistics(
                own.Connections ?? Sum(parts.Select(p => p.Connections)),
                own.InPackets ?? Sum(parts.Select(p => p.InPackets)),
                own.OutPackets ?? Sum(parts.Select(p => p.OutPackets)),
                own.InBytes ?? Sum(parts.Select(p => p.InBytes)),
                own.OutBytes ?? Sum(parts.Select(p => p.OutBytes)),
                own.ActiveConnections ?? Sum(parts.Select(p => p.ActiveConnections)),
                own.InactiveConnections ?? Sum(parts.Select(p => p.InactiveConnections)));
            services.Add(new ServiceSample(service.Key, total, Rates(total, old?.Counters, interval), destinations));
        }

        return new KernelStatisticsSample(at, backend, interval, services);
    }

    /// <summary>The small bus event: per-service totals and rates, and per destination its connections (what the canary watches).</summary>
    public KernelStatisticsReported ToEvent() => new()
    {
        Backend = Backend,
        Interval = Interval ?? TimeSpan.Zero,
        TotalActiveConnections = TotalActiveConnections,
        Services = [.. Services.Select(s => new VirtualServiceTraffic(
            s.Ref, s.Destinations.Count, s.Counters.ActiveConnections, s.Counters.InactiveConnections, s.Counters.Connections,
            s.Rates?.ConnectionsPerSecond, s.Rates?.InPacketsPerSecond, s.Rates?.OutPacketsPerSecond, s.Rates?.InBytesPerSecond, s.Rates?.OutBytesPerSecond)
        {
            RealServers = [.. s.Destinations.Select(d => new DestinationTraffic(
                d.Key.Address, d.Key.Port, d.Weight, d.Counters.ActiveConnections, d.Counters.InactiveConnections,
                d.NewConnections, d.Rates?.ConnectionsPerSecond, d.NewUnanswered))],
        })],
    };

    /// <summary>What a cumulative counter added since <paramref name="before"/> (one that went back restarted: all of it).</summary>
    private static long? Delta(long? now, long? before) => now is not { } n ? null : n >= (before ?? 0) ? n - (before ?? 0) : n;

    private static TrafficRates? Rates(TrafficStatistics now, TrafficStatistics? before, TimeSpan? interval)
    {
        if (interval is not { } elapsed)
        {
            return null;
        }

        // A destination or service new since the last poll counted from 0.
        before ??= new TrafficStatistics(0, 0, 0, 0, 0);
        var seconds = elapsed.TotalSeconds;
        return new TrafficRates(
            Rate(now.Connections, before.Connections, seconds),
            Rate(now.InPackets, before.InPackets, seconds),
            Rate(now.OutPackets, before.OutPackets, seconds),
            Rate(now.InBytes, before.InBytes, seconds),
            Rate(now.OutBytes, before.OutBytes, seconds));
    }

    private static double? Rate(long? now, long? before, double seconds) => now is not { } n
        ? null
        : (n >= (before ?? 0) ? n - (before ?? 0) : n) / seconds;

    private static long? Sum(IEnumerable<long?> values)
    {
        long? sum = null;
        foreach (var v in values)
        {
            if (v is { } x)
            {
                sum = (sum ?? 0) + x;
            }
        }

        return sum;
    }
}
