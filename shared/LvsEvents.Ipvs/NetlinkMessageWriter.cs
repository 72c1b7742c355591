using System.Buffers.Binary;
using System.Text;

namespace LvsEvents.Ipvs;

/// <summary>
/// Builds netlink messages (nlmsghdr + genlmsghdr + attributes) into one growable buffer; several messages can
/// follow each other for a batched send. Netlink is host byte order; this library runs on little-endian hosts.
/// </summary>
public sealed class NetlinkMessageWriter
{
    public const int MessageHeaderLength = 16;
    public const int GenericHeaderLength = 4;
    public const int AttributeHeaderLength = 4;
    public const ushort NestedFlag = 0x8000;

    private byte[] _buffer;
    private int _length;
    private int _messageStart = -1;

    public NetlinkMessageWriter(int capacity = 256) => _buffer = new byte[capacity];

    public int Length => _length;
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);
    public byte[] ToArray() => Written.ToArray();
    public void Clear() { _length = 0; _messageStart = -1; }

    public static int Align(int length) => (length + 3) & ~3;

    /// <summary>Starts a generic netlink message; returns its offset in the buffer.</summary>
    public int BeginMessage(ushort type, ushort flags, uint sequence, byte command, byte version)
    {
        if (_messageStart >= 0)
        {
            throw new InvalidOperationException("the previous message is not finished");
        }
        _messageStart = _length;
        var header = Reserve(MessageHeaderLength + GenericHeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        header[16] = command;
        header[17] = version;
        header[18] = 0;
        header[19] = 0;
        return _messageStart;
    }

    public void EndMessage()
    {
        if (_messageStart < 0)
        {
            throw new InvalidOperationException("no message is open");
        }
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_messageStart), (uint)(_length - _messageStart));
        _messageStart = -1;
    }

    /// <summary>Starts a nested attribute; pass the result to <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        var start = _length;
        var header = Reserve(AttributeHeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)(type | NestedFlag));
        return start;
    }

    public void EndNested(int start) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), (ushort)(_length - start));

    public void PutU8(ushort type, byte value) => Attribute(type, 1)[0] = value;

    public void PutU16(ushort type, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Attribute(type, 2), value);

    /// <summary>A 16-bit value in network byte order (ports).</summary>
    public void PutBe16(ushort type, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Attribute(type, 2), value);

    public void PutU32(ushort type, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Attribute(type, 4), value);

    public void PutU64(ushort type, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Attribute(type, 8), value);

    /// <summary>A NUL-terminated string.</summary>
    public void PutString(ushort type, string value)
    {
        var count = Encoding.ASCII.GetByteCount(value);
        var target = Attribute(type, count + 1);
        Encoding.ASCII.GetBytes(value, target);
        target[count] = 0;
    }

    public void PutBytes(ushort type, ReadOnlySpan<byte> value) => value.CopyTo(Attribute(type, value.Length));

    private Span<byte> Attribute(ushort type, int payloadLength)
    {
        var total = AttributeHeaderLength + payloadLength;
        var span = Reserve(Align(total));
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)total);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        span[total..].Clear();
        return span.Slice(AttributeHeaderLength, payloadLength);
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}

/// <summary>
/// The attributes of one level of a netlink message, indexed by type (the nested and byte-order flags masked off).
/// A later duplicate replaces an earlier one, as nla_parse does.
/// </summary>
public readonly ref struct NetlinkAttributes
{
    private const int MaxType = 31;
    private readonly ReadOnlySpan<byte> _data;
    private readonly Span<int> _offsets;

    private NetlinkAttributes(ReadOnlySpan<byte> data, Span<int> offsets)
    {
        _data = data;
        _offsets = offsets;
    }

    /// <summary>Parses <paramref name="data"/>; <paramref name="scratch"/> needs 64 ints (stackalloc).</summary>
    public static NetlinkAttributes Parse(ReadOnlySpan<byte> data, Span<int> scratch)
    {
        var offsets = scratch[..((MaxType + 1) * 2)];
        offsets.Fill(-1);
        var position = 0;
        while (position + NetlinkMessageWriter.AttributeHeaderLength <= data.Length)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(data[position..]);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(data[(position + 2)..]) & 0x3FFF;
            if (length < NetlinkMessageWriter.AttributeHeaderLength || position + length > data.Length)
            {
                throw new InvalidDataException($"malformed netlink attribute (type {type}, length {length}, {data.Length - position} bytes left)");
            }
            if (type <= MaxType)
            {
                offsets[type * 2] = position + NetlinkMessageWriter.AttributeHeaderLength;
                offsets[type * 2 + 1] = length - NetlinkMessageWriter.AttributeHeaderLength;
            }
            position += NetlinkMessageWriter.Align(length);
        }
        return new NetlinkAttributes(data, offsets);
    }

    public bool Has(int type) => type <= MaxType && _offsets[type * 2] >= 0;

    public ReadOnlySpan<byte> Get(int type) =>
        Has(type) ? _data.Slice(_offsets[type * 2], _offsets[type * 2 + 1]) : ReadOnlySpan<byte>.Empty;

    public byte U8(int type, byte fallback = 0) => Get(type) is { Length: >= 1 } v ? v[0] : fallback;

    public ushort U16(int type, ushort fallback = 0) =>
        Get(type) is { Length: >= 2 } v ? BinaryPrimitives.ReadUInt16LittleEndian(v) : fallback;

    public ushort Be16(int type, ushort fallback = 0) =>
        Get(type) is { Length: >= 2 } v ? BinaryPrimitives.ReadUInt16BigEndian(v) : fallback;

    public uint U32(int type, uint fallback = 0) =>
        Get(type) is { Length: >= 4 } v ? BinaryPrimitives.ReadUInt32LittleEndian(v) : fallback;

    /// <summary>A counter: 64-bit if the attribute has 8 bytes, else 32-bit.</summary>
    public ulong Counter(int type) => Get(type) switch
    {
        { Length: >= 8 } v => BinaryPrimitives.ReadUInt64LittleEndian(v),
        { Length: >= 4 } v => BinaryPrimitives.ReadUInt32LittleEndian(v),
        _ => 0,
    };

    public string? String(int type)
    {
        if (!Has(type))
        {
            return null;
        }
        var value = Get(type);
        var end = value.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end >= 0 ? value[..end] : value);
    }
}
