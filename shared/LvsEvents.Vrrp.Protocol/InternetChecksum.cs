using System.Buffers.Binary;
using System.Net;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>The RFC 1071 ones'-complement checksum VRRP uses, with the IPv4 pseudo-header VRRPv3 adds.</summary>
public static class InternetChecksum
{
    /// <summary>IANA protocol number of VRRP; it goes into the VRRPv3 pseudo-header.</summary>
    public const byte VrrpProtocolNumber = 112;

    /// <summary>Ones'-complement sum of 16-bit big-endian words, an odd last byte padded with zero, not folded.</summary>
    public static uint Accumulate(ReadOnlySpan<byte> data, uint sum = 0)
    {
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i, 2));
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        // Fold as we go so a long buffer cannot overflow 32 bits.
        return (sum & 0xFFFF) + (sum >> 16);
    }

    /// <summary>Folds a sum to 16 bits and complements it: the value that goes on the wire.</summary>
    public static ushort Finish(uint sum)
    {
        while ((sum >> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The sum of the RFC 5798 §5.2.8 IPv4 pseudo-header: source, destination, zero, 112, VRRP length.</summary>
    public static uint IPv4PseudoHeader(IPAddress source, IPAddress destination, int vrrpLength)
    {
        Span<byte> header = stackalloc byte[12];
        if (!source.TryWriteBytes(header[..4], out var s) || s != 4)
            throw new ArgumentException("The pseudo-header needs an IPv4 source address.", nameof(source));
        if (!destination.TryWriteBytes(header.Slice(4, 4), out var d) || d != 4)
            throw new ArgumentException("The pseudo-header needs an IPv4 destination address.", nameof(destination));
        header[8] = 0;
        header[9] = VrrpProtocolNumber;
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], (ushort)vrrpLength);
        return Accumulate(header);
    }

    /// <summary>
    /// The checksum of a VRRP message whose checksum field holds zero. VRRPv2 covers the message only
    /// (RFC 3768 §5.3.8); VRRPv3 adds the pseudo-header (RFC 5798 §5.2.8).
    /// </summary>
    public static ushort ForVrrp(VrrpVersion version, ReadOnlySpan<byte> message, IPAddress source, IPAddress destination)
    {
        var sum = version == VrrpVersion.V3 ? IPv4PseudoHeader(source, destination, message.Length) : 0u;
        return Finish(Accumulate(message, sum));
    }

    /// <summary>True when a received message (checksum field as received) sums to all ones.</summary>
    public static bool IsValidVrrp(VrrpVersion version, ReadOnlySpan<byte> message, IPAddress source, IPAddress destination)
        => ForVrrp(version, message, source, destination) == 0;
}
