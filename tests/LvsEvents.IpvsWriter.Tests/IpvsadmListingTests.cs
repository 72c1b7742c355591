using System.Collections.Immutable;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Tests;

public sealed class IpvsadmListingTests
{
    private static readonly ServiceKey Key = new("TCP", "10.0.0.1", 80);
    private static readonly DestinationKey Server = new("10.1.0.1", 80);

    private static KernelTable Read(long connections, long inPackets) =>
        KernelTable.Of([KernelService.Create(Key, "wlc", null, null, [new KernelDestination(Server, 1, ForwardingMethod.DirectRouting)])]) with
        {
            ServiceStatistics = ImmutableDictionary<ServiceKey, TrafficStatistics>.Empty.Add(Key, new TrafficStatistics(connections, inPackets, 0, 123_456_789_012, 0)),
            DestinationStatistics = ImmutableDictionary<(ServiceKey, DestinationKey), TrafficStatistics>.Empty
                .Add((Key, Server), new TrafficStatistics(connections, inPackets, 0, 0, 0, ActiveConnections: 4, InactiveConnections: 9)),
        };

    [Fact]
    public void Rate_is_the_difference_of_two_reads_per_second_in_ipvsadm_rate_layout()
    {
        var rates = IpvsadmListing.Rates(Read(100, 1000), Read(160, 1600), TimeSpan.FromSeconds(2));

        var text = IpvsadmListing.Format(Read(160, 1600), IpvsadmListing.Mode.Rate, "IP Virtual Server version 1.2.1 (size=4096)", rates);

        Assert.Equal("""
            IP Virtual Server version 1.2.1 (size=4096)
            Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
              -> RemoteAddress:Port
            TCP  10.0.0.1:80                        30      300        0        0        0
              -> 10.1.0.1:80                        30      300        0        0        0

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void Plain_and_stats_layouts_show_connections_and_large_numbers_like_ipvsadm()
    {
        var plain = IpvsadmListing.Format(Read(5, 50), IpvsadmListing.Mode.Plain, "h");
        Assert.Contains("TCP  10.0.0.1:80 wlc\n  -> 10.1.0.1:80                  Route   1      4          9         \n", plain);

        var stats = IpvsadmListing.Format(Read(5, 50), IpvsadmListing.Mode.Stats, "h");
        // ipvsadm: "%-33s" then print_largenum (%9llu; from 100 million on %8llu with K/M/G/T): 123,456,789,012 is 123G.
        Assert.Contains("TCP  10.0.0.1:80" + new string(' ', 17) + "        5       50        0     123G        0\n", stats);
    }
}
