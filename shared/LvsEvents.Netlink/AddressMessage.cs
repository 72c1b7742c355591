using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LvsEvents.Netlink;

/// <summary>
/// Encodes and decodes rtnetlink address messages: nlmsghdr, ifaddrmsg, then rtattrs, each padded to 4 bytes
/// (NLMSG_ALIGN / RTA_ALIGN). Host byte order throughout, as netlink wants; addresses stay in network order.
/// </summary>
public static class AddressMessage
{
    public const ushort RtmNewLink = 16;
    public const ushort RtmGetLink = 18;
    public const ushort RtmNewAddr = 20;
    public const ushort RtmDelAddr = 21;
    public const ushort RtmGetAddr = 22;

    public const ushort IfaAddress = 1;
    public const ushort IfaLocal = 2;
    public const ushort IfaLabel = 3;
    public const ushort IfaBroadcast = 4;
    public const ushort IflaIfname = 3;

    public const int HeaderLength = 16;
    public const int IfAddrMsgLength = 8;
    public const int IfInfoMsgLength = 16;

    public static int Align(int length) => (length + 3) & ~3;

    /// <summary>RTM_NEWADDR / RTM_DELADDR for <paramref name="address"/> on interface <paramref name="index"/>.</summary>
    public static byte[] Encode(ushort type, ushort flags, uint sequence, VirtualAddress address, int index)
    {
        var bytes = address.Address.GetAddressBytes();
        var writer = new Writer(type, flags, sequence);
        writer.Byte(address.Address.AddressFamily == AddressFamily.InterNetwork ? (byte)2 : (byte)10);
        writer.Byte((byte)address.PrefixLength);
        writer.Byte(0); // ifa_flags
        writer.Byte((byte)address.Scope);
        writer.Int32(index);
        // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links, else the same.
        writer.Attribute(IfaLocal, bytes);
        writer.Attribute(IfaAddress, bytes);
        if (address.Broadcast is { } broadcast)
        {
            writer.Attribute(IfaBroadcast, broadcast.GetAddressBytes());
        }
        if (address.Label is { } label)
        {
            writer.Attribute(IfaLabel, NulTerminated(label));
        }
        return writer.ToArray();
    }

    /// <summary>RTM_GETLINK by name: resolves the index in the socket's namespace, not the caller thread's.</summary>
    public static byte[] EncodeGetLink(ushort flags, uint sequence, string name)
    {
        var writer = new Writer(RtmGetLink, flags, sequence);
        writer.Zeros(IfInfoMsgLength);
        writer.Attribute(IflaIfname, NulTerminated(name));
        return writer.ToArray();
    }

    /// <summary>RTM_GETADDR dump of one family.</summary>
    public static byte[] EncodeGetAddresses(ushort flags, uint sequence, AddressFamily family)
    {
        var writer = new Writer(RtmGetAddr, flags, sequence);
        writer.Byte(family == AddressFamily.InterNetworkV6 ? (byte)10 : (byte)2);
        writer.Zeros(IfAddrMsgLength - 1);
        return writer.ToArray();
    }

    /// <summary>The interface index of an RTM_NEWLINK payload (ifinfomsg.ifi_index).</summary>
    public static int LinkIndex(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);

    /// <summary>ifi_flags of an RTM_NEWLINK payload (IFF_UP, IFF_RUNNING, IFF_LOWER_UP...).</summary>
    public static uint LinkFlags(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);

    /// <summary>Decodes an RTM_NEWADDR payload (after the nlmsghdr); <paramref name="index"/> is ifa_index.</summary>
    public static VirtualAddress Decode(ReadOnlySpan<byte> payload, string interfaceName, out int index)
    {
        var prefix = payload[1];
        var scope = (AddressScope)payload[3];
        index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        IPAddress? local = null, address = null, broadcast = null;
        string? label = null;
        var rest = payload[IfAddrMsgLength..];
        while (rest.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(rest);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(rest[2..]);
            if (length < 4 || length > rest.Length)
            {
                break;
            }
            var data = rest[4..length];
            switch (type)
            {
                case IfaLocal: local = new IPAddress(data); break;
                case IfaAddress: address = new IPAddress(data); break;
                case IfaBroadcast: broadcast = new IPAddress(data); break;
                case IfaLabel: label = Encoding.ASCII.GetString(data).TrimEnd('\0'); break;
            }
            rest = rest[Math.Min(Align(length), rest.Length)..];
        }
        return new VirtualAddress(local ?? address ?? IPAddress.None, prefix, interfaceName, label, broadcast, scope);
    }

    private static byte[] NulTerminated(string s) => Encoding.ASCII.GetBytes(s + "\0");

    private sealed class Writer
    {
        private readonly MemoryStream _stream = new();

        public Writer(ushort type, ushort flags, uint sequence)
        {
            Span<byte> header = stackalloc byte[HeaderLength];
            // nlmsg_len is patched in ToArray; nlmsg_pid 0 lets the kernel fill in our port.
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
            _stream.Write(header);
        }

        public void Byte(byte b) => _stream.WriteByte(b);

        public void Zeros(int count) => _stream.Write(new byte[count]);

        public void Int32(int value)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, value);
            _stream.Write(b);
        }

        public void Attribute(ushort type, ReadOnlySpan<byte> data)
        {
            Span<byte> header = stackalloc byte[4];
            BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(4 + data.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
            _stream.Write(header);
            _stream.Write(data);
            Zeros(Align(data.Length) - data.Length);
        }

        public byte[] ToArray()
        {
            var bytes = _stream.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length);
            return bytes;
        }
    }
}
