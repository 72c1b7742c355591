using System.Net;

namespace LvsEvents.Vrrp.Protocol.Tests;

/// <summary>
/// Whole IPv4 packets keepalived 2.2.7 sent, captured with an AF_PACKET socket on the far end of a veth pair
/// between two throwaway network namespaces (source 10.99.0.1, destination 224.0.0.18, TTL 255, TOS 0xc0).
/// Configurations: v2 VRID 51 priority 100 advert_int 1 auth PASS "secret" VIPs 10.99.0.100 and .101
/// (and the same with no authentication and one VIP); v3 VRID 52 priority 150 advert_int 0.1 VIP 10.99.0.200.
/// The priority 0 packets are what keepalived sent on SIGTERM as master.
/// </summary>
public static class KeepalivedCaptures
{
    public const string V2PassPriority100 = "45c0002c00010000ff70d02a0a630001e000001221336402010127ee0a6300640a6300657365637265740000";
    public const string V2PassPriority0 = "45c0002c00040000ff70d0270a630001e00000122133000201018bee0a6300640a6300657365637265740000";
    public const string V2NoAuthOneAddress = "45c0002800010000ff70d02e0a630001e000001221336401000170030a6300640000000000000000";
    public const string V3Interval10cs = "45c0002000310000ff70d0060a630001e000001231349601000a42a20a6300c8";
    public const string V3Priority0 = "45c0002000390000ff70cffe0a630001e000001231340001000ad8a20a6300c8";

    public static readonly IPAddress Sender = IPAddress.Parse("10.99.0.1");

    /// <summary>Splits a captured IPv4 packet the way the raw-socket edge will: header facts and the VRRP payload.</summary>
    public static (byte[] Payload, ReceivedIpHeader Ip) Split(string hex)
    {
        var packet = Convert.FromHexString(hex);
        var headerLength = (packet[0] & 0x0F) * 4;
        var totalLength = (packet[2] << 8) | packet[3];
        Assert.Equal(packet.Length, totalLength); // the capture is whole
        Assert.Equal(112, packet[9]);
        var ip = new ReceivedIpHeader(new IPAddress(packet.AsSpan(12, 4)), new IPAddress(packet.AsSpan(16, 4)), packet[8]);
        return (packet[headerLength..], ip);
    }

    public static byte[] Payload(string hex) => Split(hex).Payload;
}
