using System.Collections.Immutable;
using LvsEvents.Influx;
using LvsEvents.IpvsWriter.Statistics;
using LvsEvents.IpvsWriter.Table;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>Rates from two readings, counters that restart, destinations that appear, and the points and event made of a sample.</summary>
public sealed class KernelStatisticsSampleTests
{
    private static readonly ServiceKey Web = new("TCP", "10.0.0.1", 80);
    private static readonly DestinationKey Rs1 = new("10.1.0.1", 8080);
    private static readonly DestinationKey Rs2 = new("10.1.0.2", 8080);
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static KernelTable Table(TrafficStatistics? service, params (DestinationKey Key, TrafficStatistics Counters)[] destinations)
    {
        var table = KernelTable.Of([KernelService.Create(Web, "wrr", null, null, destinations.Select(d => new KernelDestination(d.Key, 1)))]);
        return table with
        {
            ServiceStatistics = service is null ? ImmutableDictionary<ServiceKey, TrafficStatistics>.Empty : ImmutableDictionary<ServiceKey, TrafficStatistics>.Empty.Add(Web, service),
            DestinationStatistics = destinations.ToImmutableDictionary(d => (Web, d.Key), d => d.Counters),
        };
    }

    [Fact]
    public void Rates_are_deltas_over_the_interval_and_a_counter_that_went_back_counts_from_zero()
    {
        var first = KernelStatisticsSample.From(Table(new TrafficStatistics(100), (Rs1, new TrafficStatistics(60, 600, 500, 60_000, 50_000, 4, 2))), "nftables", T0, null);
        Assert.Null(first.Interval);
        Assert.Null(Assert.Single(first.Services).Rates);

        // 5 s later: rs1 counted 50 more connections; the service's rule was rewritten (its counter restarted at 30);
        // rs2 is new since the last reading.
        var second = KernelStatisticsSample.From(
            Table(new TrafficStatistics(30), (Rs1, new TrafficStatistics(110, 1100, 900, 110_000, 90_000, 7, 1)), (Rs2, new TrafficStatistics(10, 50, 40, 5000, 4000, 1, 0))),
            "nftables", T0.AddSeconds(5), first);
        var service = Assert.Single(second.Services);
        Assert.Equal(TimeSpan.FromSeconds(5), second.Interval);
        Assert.Equal(6, service.Rates!.ConnectionsPerSecond);
        var rs1 = service.Destinations.Single(d => d.Key == Rs1);
        Assert.Equal(new TrafficRates(10, 100, 80, 10_000, 8000), rs1.Rates);
        Assert.Equal(2, service.Destinations.Single(d => d.Key == Rs2).Rates!.ConnectionsPerSecond);
        // The service has no active/packet counts of its own under nftables: its destinations' sums.
        Assert.Equal(8, service.Counters.ActiveConnections);
        Assert.Equal(1150, service.Counters.InPackets);
        Assert.Equal(8, second.TotalActiveConnections);

        var e = second.ToEvent();
        Assert.Equal(8, e.TotalActiveConnections);
        var traffic = Assert.Single(e.Services);
        Assert.Equal("TCP/10.0.0.1:80", traffic.VirtualService.ToString());
        Assert.Equal((2, 8L, 1L, 30L, 6.0), (traffic.Destinations, traffic.ActiveConnections!.Value, traffic.InactiveConnections!.Value, traffic.Connections!.Value, traffic.ConnectionsPerSecond!.Value));
    }

    [Fact]
    public void Points_leave_out_what_the_backend_cannot_count_and_keep_counters_integer_and_rates_float()
    {
        // Accounting off: connections counted, packets and bytes unknown.
        var first = KernelStatisticsSample.From(Table(new TrafficStatistics(10), (Rs1, new TrafficStatistics(10, ActiveConnections: 2, InactiveConnections: 3))), "nftables", T0, null);
        var second = KernelStatisticsSample.From(Table(new TrafficStatistics(20), (Rs1, new TrafficStatistics(20, ActiveConnections: 1, InactiveConnections: 4))), "nftables", T0.AddSeconds(2), first);
        var lines = KernelStatisticsPoints.From("director-1", second).Select(p => p.ToString()).ToList();
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("kernel_service,backend=nftables,node=director-1,virtual_service=TCP/10.0.0.1:80 ", lines[0]);
        Assert.Contains("active_connections=1i,inactive_connections=4i,connections=20i,connections_per_second=5,destinations=1i", lines[0]);
        Assert.StartsWith("kernel_destination,backend=nftables,node=director-1,real_server=10.1.0.1:8080,virtual_service=TCP/10.0.0.1:80 ", lines[1]);
        Assert.Contains("weight=1i", lines[1]);
        Assert.DoesNotContain("packets", string.Join('\n', lines));
        Assert.DoesNotContain("bytes", string.Join('\n', lines));
    }
}
