using System.Buffers.Binary;
using System.Text;

namespace LvsEvents.Netlink;

/// <summary>
/// Writes a run of netlink messages into one growable buffer, for a batch sent with a single system call:
/// nlmsghdr, a 4-byte family header (nfgenmsg: family, version, resource id), then attributes, each padded to
/// 4 bytes. Nested attributes carry NLA_F_NESTED (as libmnl writes them). Integers are written big-endian where
/// the protocol wants network order (nf_tables does for all of its u32/u64 attributes), host order otherwise.
/// </summary>
public sealed class NetlinkBatchWriter
{
    public const int MessageHeaderLength = 16;
    public const int FamilyHeaderLength = 4;
    public const ushort NestedFlag = 0x8000;

    private byte[] _buffer;
    private int _length;
    private int _messageStart = -1;

    public NetlinkBatchWriter(int capacity = 4096) => _buffer = new byte[Math.Max(capacity, 64)];

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Clear()
    {
        _length = 0;
        _messageStart = -1;
    }

    public static int Align(int length) => (length + 3) & ~3;

    /// <summary>Starts a message: nlmsghdr and the 4-byte family header (nfgenmsg). End it with <see cref="EndMessage"/>.</summary>
    public void BeginMessage(ushort type, ushort flags, uint sequence, byte family, byte version, ushort resourceIdBigEndian)
    {
        if (_messageStart >= 0)
        {
            throw new InvalidOperationException("the previous message is not ended");
        }

        _messageStart = _length;
        var header = Reserve(MessageHeaderLength + FamilyHeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        header[16] = family;
        header[17] = version;
        BinaryPrimitives.WriteUInt16BigEndian(header[18..], resourceIdBigEndian);
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

    /// <summary>Opens a nested attribute; close it with <see cref="EndNested"/> (the returned value).</summary>
    public int BeginNested(ushort type)
    {
        var start = _length;
        var header = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(header, 4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)(type | NestedFlag));
        return start;
    }

    public void EndNested(int start) => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), (ushort)(_length - start));

    public void PutBe32(ushort type, uint value) => BinaryPrimitives.WriteUInt32BigEndian(Attribute(type, 4), value);

    public void PutBe32(ushort type, int value) => BinaryPrimitives.WriteInt32BigEndian(Attribute(type, 4), value);

    public void PutU32(ushort type, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Attribute(type, 4), value);

    public void PutBytes(ushort type, ReadOnlySpan<byte> value) => value.CopyTo(Attribute(type, value.Length));

    /// <summary>A NUL-terminated string attribute (NLA_STRING / NLA_NUL_STRING).</summary>
    public void PutString(ushort type, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var span = Attribute(type, length + 1);
        Encoding.UTF8.GetBytes(value, span);
        span[length] = 0;
    }

    /// <summary>Reserves an attribute of <paramref name="length"/> payload bytes (padding zeroed) and returns the payload.</summary>
    public Span<byte> Attribute(ushort type, int length)
    {
        var total = 4 + length;
        var span = Reserve(Align(total));
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)total);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        span[total..].Clear();
        return span.Slice(4, length);
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
