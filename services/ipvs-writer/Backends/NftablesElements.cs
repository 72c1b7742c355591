using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Netlink;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// Set and map elements as nft encodes them. Concatenations put each field in its own 32-bit register word (a 1-byte
/// protocol or a 2-byte port is zero-padded to 4 bytes); addresses and ports are in network order, a mark in host
/// order; the keys of the weight maps are in network order when the map is an interval map (the rule turns the
/// number around with byteorder first) and in host order otherwise.
/// </summary>
internal static class NftablesElements
{
    /// <summary>One element (attribute type <paramref name="number"/>: its place in the list, counted from 1): key, then data (a value or a jump), or with <paramref name="intervalEnd"/> the end of the last range.</summary>
    public static void Element(NetlinkBatchWriter w, ushort number, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, string? jump = null, bool intervalEnd = false)
    {
        var element = w.BeginNested(number);
        if (intervalEnd)
        {
            w.PutBe32(NftablesNetlinkProtocol.ElementFlags, NftablesNetlinkProtocol.ElementIntervalEnd);
        }

        var keyAttribute = w.BeginNested(NftablesNetlinkProtocol.ElementKey);
        w.PutBytes(NftablesNetlinkProtocol.DataValue, key);
        w.EndNested(keyAttribute);
        if (jump is not null)
        {
            var dataAttribute = w.BeginNested(NftablesNetlinkProtocol.ElementData);
            var verdict = w.BeginNested(NftablesNetlinkProtocol.DataVerdict);
            w.PutBe32(NftablesNetlinkProtocol.VerdictCode, NftablesNetlinkProtocol.VerdictJump);
            w.PutString(NftablesNetlinkProtocol.VerdictChain, jump);
            w.EndNested(verdict);
            w.EndNested(dataAttribute);
        }
        else if (!data.IsEmpty)
        {
            var dataAttribute = w.BeginNested(NftablesNetlinkProtocol.ElementData);
            w.PutBytes(NftablesNetlinkProtocol.DataValue, data);
            w.EndNested(dataAttribute);
        }

        w.EndNested(element);
    }

    /// <summary><c>VIP . proto . port</c>, the key of the services map (12 bytes).</summary>
    public static void ServiceKey(ServiceKey key, byte protocol, Span<byte> destination)
    {
        destination[..12].Clear();
        Ipv4(key.Address, destination);
        destination[4] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], (ushort)key.Port);
    }

    /// <summary>The mark, the key of the fwmarks map (4 bytes, host order).</summary>
    public static void MarkKey(uint mark, Span<byte> destination) => BinaryPrimitives.WriteUInt32LittleEndian(destination, mark);

    /// <summary><c>address . port</c> (8 bytes): the idle set's key and the weight maps' concatenated data.</summary>
    public static void AddressPort(DestinationKey key, Span<byte> destination)
    {
        destination[..8].Clear();
        Ipv4(key.Address, destination);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)key.Port);
    }

    /// <summary>The address alone (4 bytes), the data of a portless weight map.</summary>
    public static void Address(DestinationKey key, Span<byte> destination) => Ipv4(key.Address, destination);

    public static void Ipv4(string address, Span<byte> destination)
    {
        if (!IPAddress.TryParse(address, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetwork
            || !parsed.TryWriteBytes(destination, out _))
        {
            throw new KernelTableException($"nftables: {address} is not an IPv4 address");
        }
    }
}
