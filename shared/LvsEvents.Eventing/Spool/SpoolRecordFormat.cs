using System.Buffers.Binary;
using System.IO.Hashing;

namespace LvsEvents.Eventing.Spool;

/// <summary>
/// On disk a record is <c>[u32 payload length][u32 CRC-32 of sequence+payload][u64 sequence][payload]</c>,
/// little-endian. The CRC covers the sequence so that a torn or stale write is never taken for an event.
/// </summary>
internal static class SpoolRecordFormat
{
    public const int HeaderBytes = 16;

    /// <summary>Larger payloads are refused: an event is a few hundred bytes; this bounds a corrupt length.</summary>
    public const int MaxPayloadBytes = 4 * 1024 * 1024;

    public static int Write(Span<byte> destination, long sequence, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Checksum(sequence, payload));
        payload.CopyTo(destination[HeaderBytes..]);
        return HeaderBytes + payload.Length;
    }

    /// <summary>Reads the record at the start of <paramref name="source"/>.</summary>
    /// <returns>Whole: a valid record; Incomplete: more bytes needed; Corrupt: not a record.</returns>
    public static ReadOutcome TryRead(ReadOnlySpan<byte> source, out long sequence, out int payloadLength)
    {
        sequence = 0;
        payloadLength = 0;
        if (source.Length < HeaderBytes)
        {
            return ReadOutcome.Incomplete;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(source);
        if (length > MaxPayloadBytes)
        {
            return ReadOutcome.Corrupt;
        }

        if (source.Length < HeaderBytes + (int)length)
        {
            payloadLength = (int)length;
            return ReadOutcome.Incomplete;
        }

        var crc = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        sequence = BinaryPrimitives.ReadInt64LittleEndian(source[8..]);
        payloadLength = (int)length;
        return Checksum(sequence, source.Slice(HeaderBytes, payloadLength)) == crc ? ReadOutcome.Whole : ReadOutcome.Corrupt;
    }

    private static uint Checksum(long sequence, ReadOnlySpan<byte> payload)
    {
        Span<byte> sequenceBytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(sequenceBytes, sequence);
        var crc = new Crc32();
        crc.Append(sequenceBytes);
        crc.Append(payload);
        return crc.GetCurrentHashAsUInt32();
    }

    public enum ReadOutcome
    {
        Whole,
        Incomplete,
        Corrupt,
    }
}
