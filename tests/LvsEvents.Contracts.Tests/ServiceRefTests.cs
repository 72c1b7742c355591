using LvsEvents.Contracts;

namespace LvsEvents.Contracts.Tests;

/// <summary>The references print once and cache it: the cache must not leak into `with` copies or equality.</summary>
public class ServiceRefTests
{
    [Fact]
    public void A_with_copy_prints_its_own_values_and_equality_ignores_what_was_printed()
    {
        var service = VirtualServiceRef.Tcp("192.168.1.100", 80);
        var server = new RealServerRef(service, "192.168.1.20", 80);
        Assert.Equal("TCP/192.168.1.100:80->192.168.1.20:80", server.ToString());

        var moved = server with { Port = 8080 };
        Assert.Equal("TCP/192.168.1.100:80->192.168.1.20:8080", moved.ToString());
        var udp = service with { Protocol = "UDP" };
        Assert.Equal("UDP/192.168.1.100:80", udp.ToString());
        Assert.Equal("FWM/7/UDP", (udp with { FirewallMark = 7 }).ToString());

        // One printed, one not: still equal, with equal hashes.
        var fresh = new RealServerRef(VirtualServiceRef.Tcp("192.168.1.100", 80), "192.168.1.20", 80);
        Assert.Equal(server, fresh);
        Assert.Equal(server.GetHashCode(), fresh.GetHashCode());
        Assert.NotEqual(server, moved);
        Assert.NotEqual(service, udp);
        Assert.Equal(server, RealServerRef.Parse(server.ToString()));
        Assert.Equal(new VirtualServiceRef("TCP", "", 0, Group: "g"), VirtualServiceRef.Parse("GROUP/g"));
        Assert.NotEqual(new VirtualServiceRef("TCP", "", 0, Group: "g"), VirtualServiceRef.Parse("GROUP/h"));
    }
}
