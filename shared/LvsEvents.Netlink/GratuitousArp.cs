using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace LvsEvents.Netlink;

/// <summary>
/// The gratuitous ARP frame keepalived sends for a VIP (vrrp_arp.c, send_gratuitous_arp_immediate): an Ethernet
/// broadcast carrying an ARP request whose sender and target IP are both the VIP, sender MAC the interface's,
/// and target MAC ff:ff:ff:ff:ff:ff. A request rather than a reply, because every host updates its cache from
/// a request's sender fields while some ignore unsolicited replies.
/// </summary>
public static class GratuitousArp
{
    public const int FrameLength = EthernetHeaderLength + ArpLength;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort OpRequest = 1;

    private const int EthernetHeaderLength = 14;
    private const int ArpLength = 28;
    private const int MacLength = 6;
    private const ushort HardwareEthernet = 1;
    private const ushort EtherTypeIPv4 = 0x0800;

    /// <summary>The 42-byte frame (no FCS: the NIC adds it, and pads to the 60-byte minimum).</summary>
    public static byte[] Build(IPAddress vip, ReadOnlySpan<byte> mac)
    {
        if (vip.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"gratuitous ARP is IPv4 only; {vip} is not (IPv6 uses unsolicited NA)", nameof(vip));
        }
        if (mac.Length != MacLength)
        {
            throw new ArgumentException($"an Ethernet MAC has 6 bytes, not {mac.Length}", nameof(mac));
        }
        var frame = new byte[FrameLength];
        var span = frame.AsSpan();
        span[..MacLength].Fill(0xff);
        mac.CopyTo(span[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[12..], EtherTypeArp);

        var arp = span[EthernetHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, HardwareEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], EtherTypeIPv4);
        arp[4] = MacLength;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], OpRequest);
        mac.CopyTo(arp[8..]);
        vip.TryWriteBytes(arp[14..18], out _);
        arp[18..24].Fill(0xff);
        vip.TryWriteBytes(arp[24..28], out _);
        return frame;
    }
}
