using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LvsEvents.Netlink;

/// <summary>
/// Dumps the connection tracking table over ctnetlink (AF_NETLINK / NETLINK_NETFILTER, subsystem CTNETLINK), what
/// <c>conntrack -L</c> reads. The socket belongs to the network namespace it was opened in (<see cref="Open"/>), for
/// its whole life; one dump at a time.
/// </summary>
public sealed class ConntrackSocket : IDisposable
{
    private const int NetlinkNetfilter = 12;
    private const ushort CtGet = (1 << 8) | 1; // NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET
    private const ushort NlmsgError = 2;
    private const ushort NlmsgDone = 3;
    private const ushort NlmFDumpInterrupted = 0x10;
    private const int HeaderLength = 16;
    private const int NfGenMsgLength = 4;
    // A dump's datagrams are at most 32 KiB (netlink_dump); twice that leaves room.
    private const int ReceiveBufferSize = 64 * 1024;
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);

    private readonly int _fd;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly byte[] _buffer = new byte[ReceiveBufferSize];
    private uint _sequence;
    private bool _disposed;

    private ConntrackSocket(int fd) => _fd = fd;

    /// <summary>Opens the socket in network namespace <paramref name="networkNamespace"/> (<c>/run/netns/NAME</c>), or here when null.</summary>
    public static ConntrackSocket Open(string? networkNamespace = null) => NetworkNamespace.Run(networkNamespace, () =>
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("netlink encoding assumes a little-endian host");
        }
        var fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NetlinkNetfilter);
        if (fd < 0)
        {
            throw new NetlinkException("opening a NETLINK_NETFILTER socket", errno);
        }
        return new ConntrackSocket(fd);
    });

    /// <summary>Every entry of <paramref name="family"/> (InterNetwork, InterNetworkV6, or Unspecified for both).</summary>
    public async Task<IReadOnlyList<ConntrackEntry>> DumpAsync(AddressFamily family = AddressFamily.Unspecified, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // Reading a large table takes milliseconds of blocking reads: off the caller's thread. A dump the kernel
            // marks interrupted (the table changed under it, NLM_F_DUMP_INTR) may have missed entries: read it again.
            return await Task.Run(() =>
            {
                var (entries, interrupted) = Dump(family, ++_sequence);
                for (var retry = 0; interrupted && retry < 2; retry++)
                {
                    (entries, interrupted) = Dump(family, ++_sequence);
                }
                return entries;
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    private unsafe (List<ConntrackEntry> Entries, bool Interrupted) Dump(AddressFamily family, uint sequence)
    {
        var request = new byte[HeaderLength + NfGenMsgLength];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), CtGet);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), NetlinkSocket.NlmFRequest | NetlinkSocket.NlmFDump);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), sequence);
        request[HeaderLength] = family switch
        {
            AddressFamily.InterNetwork => 2,
            AddressFamily.InterNetworkV6 => 10,
            _ => 0,
        };
        // nfgen_family, version NFNETLINK_V0, res_id 0.
        fixed (byte* p = request)
        {
            if ((long)send(_fd, p, request.Length, 0) < 0)
            {
                throw new NetlinkException("dumping conntrack", errno);
            }
        }

        var entries = new List<ConntrackEntry>();
        var interrupted = false;
        var deadline = DateTime.UtcNow + AnswerTimeout;
        while (true)
        {
            var length = ReceiveOne(deadline);
            var span = _buffer.AsSpan(0, length);
            while (span.Length >= HeaderLength)
            {
                var messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
                var type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
                var flags = BinaryPrimitives.ReadUInt16LittleEndian(span[6..]);
                var messageSequence = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
                if (messageLength < HeaderLength || messageLength > span.Length)
                {
                    throw new IOException($"dumping conntrack: malformed netlink message ({messageLength} of {span.Length} bytes)");
                }
                var payload = span[HeaderLength..messageLength];
                span = span[Math.Min(Align(messageLength), span.Length)..];
                if (messageSequence != sequence)
                {
                    // The rest of an earlier dump that timed out: not ours.
                    continue;
                }
                if (type == NlmsgError)
                {
                    var error = BinaryPrimitives.ReadInt32LittleEndian(payload);
                    if (error != 0)
                    {
                        throw new NetlinkException("dumping conntrack", -error);
                    }
                    continue;
                }
                interrupted |= (flags & NlmFDumpInterrupted) != 0;
                if (type == NlmsgDone)
                {
                    return (entries, interrupted);
                }
                if (payload.Length >= NfGenMsgLength && Parse(payload[NfGenMsgLength..]) is { } entry)
                {
                    entries.Add(entry);
                }
            }
        }
    }

    /// <summary>The attributes of one IPCTNL_MSG_CT_NEW message (after nfgenmsg); null when a tuple is missing.</summary>
    public static ConntrackEntry? Parse(ReadOnlySpan<byte> attributes)
    {
        Tuple? original = null;
        Tuple? reply = null;
        uint id = 0;
        uint status = 0;
        byte? tcpState = null;
        byte? sctpState = null;
        (ulong Packets, ulong Bytes)? originalCounters = null;
        (ulong Packets, ulong Bytes)? replyCounters = null;
        foreach (var (type, value) in Attributes(attributes))
        {
            switch (type)
            {
                case 1: // CTA_TUPLE_ORIG
                    original = ParseTuple(value);
                    break;
                case 2: // CTA_TUPLE_REPLY
                    reply = ParseTuple(value);
                    break;
                case 3 when value.Length >= 4: // CTA_STATUS
                    status = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case 4: // CTA_PROTOINFO
                    foreach (var (protocol, info) in Attributes(value))
                    {
                        foreach (var (field, state) in Attributes(info))
                        {
                            // CTA_PROTOINFO_TCP / _SCTP, each with its *_STATE (1) as a byte.
                            if (field == 1 && state.Length >= 1 && protocol == 1)
                            {
                                tcpState = state[0];
                            }
                            else if (field == 1 && state.Length >= 1 && protocol == 3)
                            {
                                sctpState = state[0];
                            }
                        }
                    }
                    break;
                case 9: // CTA_COUNTERS_ORIG
                    originalCounters = ParseCounters(value);
                    break;
                case 10: // CTA_COUNTERS_REPLY
                    replyCounters = ParseCounters(value);
                    break;
                case 12 when value.Length >= 4: // CTA_ID
                    id = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
            }
        }

        if (original is not { } o || reply is not { } r)
        {
            return null;
        }

        return new ConntrackEntry(id, o.Protocol, o.Source, o.SourcePort, o.Destination, o.DestinationPort, r.Source, r.SourcePort,
            status, tcpState, sctpState, originalCounters?.Packets, originalCounters?.Bytes, replyCounters?.Packets, replyCounters?.Bytes);
    }

    private readonly record struct Tuple(byte Protocol, IPAddress Source, ushort SourcePort, IPAddress Destination, ushort DestinationPort);

    private static Tuple? ParseTuple(ReadOnlySpan<byte> value)
    {
        IPAddress? source = null;
        IPAddress? destination = null;
        byte protocol = 0;
        ushort sourcePort = 0;
        ushort destinationPort = 0;
        foreach (var (type, inner) in Attributes(value))
        {
            if (type == 1) // CTA_TUPLE_IP: CTA_IP_V4_SRC 1, _DST 2, CTA_IP_V6_SRC 3, _DST 4
            {
                foreach (var (field, address) in Attributes(inner))
                {
                    switch (field)
                    {
                        case 1 or 3:
                            source = new IPAddress(address);
                            break;
                        case 2 or 4:
                            destination = new IPAddress(address);
                            break;
                    }
                }
            }
            else if (type == 2) // CTA_TUPLE_PROTO: CTA_PROTO_NUM 1, _SRC_PORT 2, _DST_PORT 3
            {
                foreach (var (field, number) in Attributes(inner))
                {
                    switch (field)
                    {
                        case 1 when number.Length >= 1:
                            protocol = number[0];
                            break;
                        case 2 when number.Length >= 2:
                            sourcePort = BinaryPrimitives.ReadUInt16BigEndian(number);
                            break;
                        case 3 when number.Length >= 2:
                            destinationPort = BinaryPrimitives.ReadUInt16BigEndian(number);
                            break;
                    }
                }
            }
        }

        return source is null || destination is null ? null : new Tuple(protocol, source, sourcePort, destination, destinationPort);
    }

    private static (ulong, ulong)? ParseCounters(ReadOnlySpan<byte> value)
    {
        ulong? packets = null;
        ulong? bytes = null;
        foreach (var (type, number) in Attributes(value))
        {
            // CTA_COUNTERS_PACKETS 1 / _BYTES 2 (64-bit); CTA_COUNTERS32_* 3 / 4 from old kernels.
            switch (type)
            {
                case 1 when number.Length >= 8:
                    packets = BinaryPrimitives.ReadUInt64BigEndian(number);
                    break;
                case 2 when number.Length >= 8:
                    bytes = BinaryPrimitives.ReadUInt64BigEndian(number);
                    break;
                case 3 when number.Length >= 4:
                    packets = BinaryPrimitives.ReadUInt32BigEndian(number);
                    break;
                case 4 when number.Length >= 4:
                    bytes = BinaryPrimitives.ReadUInt32BigEndian(number);
                    break;
            }
        }

        return packets is { } p && bytes is { } b ? (p, b) : null;
    }

    /// <summary>The netlink attributes in <paramref name="span"/>: type without the nested/byte-order flags, and value.</summary>
    private static AttributeEnumerator Attributes(ReadOnlySpan<byte> span) => new(span);

    private ref struct AttributeEnumerator(ReadOnlySpan<byte> span)
    {
        private ReadOnlySpan<byte> _rest = span;

        public Attribute Current { get; private set; }

        public readonly AttributeEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_rest.Length < 4)
            {
                return false;
            }
            var length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & 0x3fff);
            if (length < 4 || length > _rest.Length)
            {
                return false;
            }
            Current = new Attribute(type, _rest[4..length]);
            _rest = _rest[Math.Min(Align(length), _rest.Length)..];
            return true;
        }
    }

    private readonly ref struct Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        private readonly ushort _type = type;
        private readonly ReadOnlySpan<byte> _value = value;

        public void Deconstruct(out ushort type, out ReadOnlySpan<byte> value)
        {
            type = _type;
            value = _value;
        }
    }

    private static int Align(int length) => (length + 3) & ~3;

    private unsafe int ReceiveOne(DateTime deadline)
    {
        while (true)
        {
            var remaining = (int)Math.Max(0, (deadline - DateTime.UtcNow).TotalMilliseconds);
            var poll = new pollfd { fd = _fd, events = POLLIN };
            var ready = InterruptiblePoll.Wait(&poll, 1, remaining, out var pollError);
            if (ready < 0 && pollError == EINTR)
            {
                continue;
            }
            if (ready < 0)
            {
                throw new NetlinkException("dumping conntrack", pollError);
            }
            if (ready == 0)
            {
                throw new TimeoutException($"dumping conntrack: no answer from the kernel within {AnswerTimeout.TotalSeconds} s");
            }
            fixed (byte* p = _buffer)
            {
                var received = (long)recv(_fd, p, _buffer.Length, 0);
                if (received < 0 && errno == EINTR)
                {
                    continue;
                }
                if (received < 0)
                {
                    throw new NetlinkException("dumping conntrack", errno);
                }
                return (int)received;
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _lock.Wait();
        try
        {
            _disposed = true;
            close(_fd);
        }
        finally
        {
            _lock.Release();
        }
    }
}
