using System.Net;

namespace LvsEvents.Ipvs.Tests;

/// <summary>Against real ipvsadm 1.31 output for the same table (Samples/README.md).</summary>
public class IpvsFormatterTests
{
    private static IPAddress Ip(string text) => IPAddress.Parse(text);
    private static readonly IpvsInfo Info = new(0x010201, 4096);

    // Deliberately out of ipvsadm's order: the formatter sorts as ipvsadm does.
    private static readonly IReadOnlyList<IpvsTableEntry> Table =
    [
        new(IpvsService.Fwmark(8, IpvsAddressFamily.IPv6, "lc"), []),
        new(IpvsService.Tcp(Ip("10.0.0.4"), 80, "rr").WithPersistence(360), [
            new IpvsDestination { Address = Ip("10.0.1.21"), Port = 80, ForwardMethod = IpvsForwardMethod.Tunnel, TunnelType = IpvsTunnelType.Gre, TunnelFlags = IpvsTunnelFlags.Checksum },
            new IpvsDestination { Address = Ip("10.0.1.20"), Port = 80, ForwardMethod = IpvsForwardMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080 },
        ]),
        new(IpvsService.Tcp(Ip("2001:db8::1"), 443, "mh").WithPersistence(60, 64), [
            new IpvsDestination { Address = Ip("2001:db8::10"), Port = 443, ForwardMethod = IpvsForwardMethod.Masquerade, Weight = 4 },
        ]),
        new(IpvsService.Fwmark(7, scheduler: "sh") with { Flags = IpvsServiceFlags.Scheduler1 | IpvsServiceFlags.Scheduler2 | IpvsServiceFlags.Hashed }, [
            new IpvsDestination { Address = Ip("10.0.1.9"), Port = 0, Weight = 5 },
        ]),
        new(IpvsService.Tcp(Ip("10.0.0.1"), 80, "wrr").WithPersistence(300, IpvsService.Ipv4Netmask(24)), [
            new IpvsDestination { Address = Ip("10.0.1.4"), Port = 80, ForwardMethod = IpvsForwardMethod.Tunnel, Weight = 2 },
            new IpvsDestination { Address = Ip("10.0.1.2"), Port = 8080, ForwardMethod = IpvsForwardMethod.Masquerade, Weight = 3, UpperThreshold = 100, LowerThreshold = 10 },
            new IpvsDestination { Address = Ip("10.0.1.3"), Port = 80, Weight = 0 },
        ]),
        new(IpvsService.Sctp(Ip("10.0.0.2"), 9, "wlc"), []),
        new(IpvsService.Udp(Ip("10.0.0.1"), 53, "rr") with { Flags = IpvsServiceFlags.OnePacket }, [
            new IpvsDestination { Address = Ip("10.0.1.5"), Port = 53, ForwardMethod = IpvsForwardMethod.Masquerade },
        ]),
        new(IpvsService.Tcp(Ip("10.0.0.3"), 80, "sed").WithPersistence(100) with { PersistenceEngine = "sip" }, []),
    ];

    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    [Fact]
    public void ListIsIpvsadmLn() => Assert.Equal(Sample("ipvsadm-Ln.txt"), IpvsFormatter.List(Info, Table));

    [Fact]
    public void StatsListIsIpvsadmLnStats() => Assert.Equal(Sample("ipvsadm-Ln-stats.txt"), IpvsFormatter.List(Info, Table, IpvsListFormat.Stats));

    [Fact]
    public void ThresholdsListIsIpvsadmLnThresholds() => Assert.Equal(Sample("ipvsadm-Ln-thresholds.txt"), IpvsFormatter.List(Info, Table, IpvsListFormat.Thresholds));

    [Fact]
    public void SaveIsIpvsadmSn() => Assert.Equal(Sample("ipvsadm-S-n.txt"), IpvsFormatter.Save(Table));

    [Fact]
    public void SaveWithThresholdsAddsThemForIpvsadmRestore()
    {
        var saved = IpvsFormatter.Save(Table, thresholds: true);
        Assert.Contains("-a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 3 -x 100 -y 10\n", saved);
    }

    [Fact]
    public void LargeCountersAreAbbreviatedUnlessExact()
    {
        var stats = new IpvsStatistics(99_999_999, 123_456_789, 12_345_678_901, 12_345_678_901_234, 999_999_999_999_999, 0, 0, 0, 0, 0);
        var table = new List<IpvsTableEntry> { new(IpvsService.Tcp(Ip("10.0.0.1"), 80) with { Statistics = stats }, []) };
        var line = IpvsFormatter.List(Info, table, IpvsListFormat.Stats).Split('\n')[3];
        Assert.Equal("TCP  10.0.0.1:80                  99999999  123456K   12345M   12345G     999T", line);
        var exact = IpvsFormatter.List(Info, table, IpvsListFormat.Stats, exact: true).Split('\n')[3];
        Assert.Equal("TCP  10.0.0.1:80                  99999999 123456789 12345678901 12345678901234 999999999999999", exact);
    }

    [Fact]
    public void SortingFollowsIpvsadmsUnsignedSubtraction()
    {
        // ipvsadm compares addresses by (int)(a - b): 200.0.0.1 - 1.0.0.1 wraps negative, so 200.x sorts first.
        var table = new List<IpvsTableEntry>
        {
            new(IpvsService.Tcp(Ip("1.0.0.1"), 80), []),
            new(IpvsService.Tcp(Ip("200.0.0.1"), 80), []),
        };
        var lines = IpvsFormatter.Save(table).Split('\n');
        Assert.Equal("-A -t 200.0.0.1:80 -s wlc", lines[0]);
        Assert.Equal("-A -t 1.0.0.1:80 -s wlc", lines[1]);
    }

    [Fact]
    public void TimeoutsLikeIpvsadm() =>
        Assert.Equal("Timeout (tcp tcpfin udp): 900 120 300\n", IpvsFormatter.Timeouts(new IpvsTimeouts(900, 120, 300)));
}
