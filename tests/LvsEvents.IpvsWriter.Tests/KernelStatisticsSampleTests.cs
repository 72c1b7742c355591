using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Influx;
using LvsEvents.IpvsWriter.Statistics;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Netlink;

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

    /// <summary>A TCP entry of a client connection to the service, DNAT'd to <paramref name="to"/>; <paramref name="replied"/> sets IPS_SEEN_REPLY.</summary>
    private static ConntrackEntry Entry(uint id, DestinationKey to, bool replied, byte state) => new(
        id, ConntrackEntry.Tcp, IPAddress.Parse("10.9.0.2"), (ushort)(40000 + id), IPAddress.Parse(Web.Address), (ushort)Web.Port,
        IPAddress.Parse(to.Address), (ushort)to.Port, replied ? 0x2u | 0x8u : 0x8u, state, null, null, null, null, null);

    [Fact]
    public void A_connection_is_unanswered_when_the_dump_after_the_one_that_first_saw_it_still_finds_no_reply()
    {
        const byte synSent = 1, established = 3;
        var table = Table(null, (Rs1, new TrafficStatistics(null)), (Rs2, new TrafficStatistics(null)));
        var counters = new ConntrackCounters();

        // 1 answered at once; 2 and 3 caught in their handshake; 4 on rs2, unanswered.
        counters.Update(table, [Entry(1, Rs1, true, established), Entry(2, Rs1, false, synSent), Entry(3, Rs1, false, synSent), Entry(4, Rs2, false, synSent)], accounting: false);
        Assert.Equal(0, counters.Unanswered[(Web, Rs1)]);
        Assert.Equal(0, counters.Unanswered[(Web, Rs2)]);

        // Next dump: 2 got its answer, 3 did not; 4 is gone before it was judged (not counted); 5 is new and unanswered.
        var second = counters.Update(table, [Entry(1, Rs1, true, established), Entry(2, Rs1, true, established), Entry(3, Rs1, false, synSent), Entry(5, Rs1, false, synSent)], accounting: false);
        Assert.Equal(1, counters.Unanswered[(Web, Rs1)]);
        Assert.Equal(0, counters.Unanswered[(Web, Rs2)]);
        Assert.Equal(4, second[(Web, Rs1)].Connections);

        // 3 still without an answer is not counted twice; 5 now is.
        counters.Update(table, [Entry(3, Rs1, false, synSent), Entry(5, Rs1, false, synSent)], accounting: false);
        Assert.Equal(2, counters.Unanswered[(Web, Rs1)]);
        counters.Update(table, [Entry(3, Rs1, true, established), Entry(5, Rs1, false, synSent)], accounting: false);
        Assert.Equal(2, counters.Unanswered[(Web, Rs1)]);
    }

    [Fact]
    public void Udp_flows_are_never_judged_unanswered()
    {
        var dns = new ServiceKey("UDP", "10.0.0.1", 53);
        var table = KernelTable.Of([KernelService.Create(dns, "rr", null, null, [new KernelDestination(Rs1, 1)])]);
        ConntrackEntry Flow(uint id) => new(id, ConntrackEntry.Udp, IPAddress.Parse("10.9.0.2"), (ushort)(40000 + id), IPAddress.Parse(dns.Address), 53,
            IPAddress.Parse(Rs1.Address), (ushort)Rs1.Port, 0x8u, null, null, null, null, null, null);
        var counters = new ConntrackCounters();

        counters.Update(table, [Flow(1)], accounting: false);
        var second = counters.Update(table, [Flow(1)], accounting: false);

        Assert.Equal(1, second[(dns, Rs1)].Connections);
        Assert.False(counters.Unanswered.ContainsKey((dns, Rs1)));
        var sample = KernelStatisticsSample.From(table with { DestinationStatistics = second }, "nftables", T0, null, counters.Unanswered);
        Assert.Null(sample.Services.Single().Destinations.Single().Unanswered);
    }

    [Fact]
    public void The_event_carries_each_destinations_new_and_unanswered_connections_of_the_interval()
    {
        var unanswered = new Dictionary<(ServiceKey, DestinationKey), long> { [(Web, Rs1)] = 2, [(Web, Rs2)] = 0 };
        var first = KernelStatisticsSample.From(Table(new TrafficStatistics(40), (Rs1, new TrafficStatistics(30, ActiveConnections: 1)), (Rs2, new TrafficStatistics(10))), "nftables", T0, null, unanswered);
        Assert.All(first.ToEvent().Services.Single().RealServers, d => Assert.Null(d.NewConnections));

        unanswered[(Web, Rs2)] = 7;
        var second = KernelStatisticsSample.From(Table(new TrafficStatistics(90), (Rs1, new TrafficStatistics(70, ActiveConnections: 3, InactiveConnections: 2)), (Rs2, new TrafficStatistics(20))), "nftables", T0.AddSeconds(5), first, unanswered);
        var e = second.ToEvent();

        var servers = e.Services.Single().RealServers;
        Assert.Equal(new DestinationTraffic("10.1.0.1", 8080, 1, 3, 2, 40, 8, 0), servers[0]);
        Assert.Equal(new DestinationTraffic("10.1.0.2", 8080, 1, null, null, 10, 2, 7), servers[1]);

        // Round trip through the events' JSON; under IPVS (no unanswered figure) the field is left out.
        var json = JsonSerializer.Serialize<LvsEvent>(e, EventJson.Options);
        Assert.Contains("\"realServers\":[{\"address\":\"10.1.0.1\",\"port\":8080,\"weight\":1,\"activeConnections\":3,\"inactiveConnections\":2,\"newConnections\":40,\"connectionsPerSecond\":8,\"unansweredConnections\":0}", json, StringComparison.Ordinal);
        Assert.Equal(servers, Assert.IsType<KernelStatisticsReported>(JsonSerializer.Deserialize<LvsEvent>(json, EventJson.Options)).Services.Single().RealServers);
        var ipvs = KernelStatisticsSample.From(Table(null, (Rs1, new TrafficStatistics(5))), "ipvs", T0.AddSeconds(10), second);
        Assert.Null(ipvs.ToEvent().Services.Single().RealServers.Single().UnansweredConnections);
        Assert.DoesNotContain("unanswered", JsonSerializer.Serialize<LvsEvent>(ipvs.ToEvent(), EventJson.Options), StringComparison.Ordinal);
    }

    [Fact]
    public void An_event_recorded_before_destinations_were_reported_still_reads()
    {
        const string old = """
            {"eventType":"kernel.statistics","eventId":"0193a000-0000-7000-8000-000000000001","occurredAt":"2026-11-20T12:00:00+00:00","nodeId":"director-1","service":"ipvs-writer",
             "backend":"nftables","interval":"00:00:05","totalActiveConnections":12,
             "services":[{"virtualService":"TCP/10.0.0.1:80","destinations":2,"activeConnections":12,"inactiveConnections":3,"connections":400,"connectionsPerSecond":8}]}
            """;

        var e = Assert.IsType<KernelStatisticsReported>(JsonSerializer.Deserialize<LvsEvent>(old, EventJson.Options));

        var service = Assert.Single(e.Services);
        Assert.Equal((2, 400L), (service.Destinations, service.Connections!.Value));
        Assert.Empty(service.RealServers);
    }
}
