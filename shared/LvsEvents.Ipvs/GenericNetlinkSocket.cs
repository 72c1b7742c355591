using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LvsEvents.Ipvs;

/// <summary>A negative netlink acknowledgement: <see cref="Errno"/> and the kernel's extended-ack text, if any.</summary>
public sealed class NetlinkErrorException(int errno, string? kernelMessage)
    : IOException($"{GenericNetlinkSocket.Describe(errno)}{(kernelMessage is null ? "" : $": {kernelMessage}")}")
{
    public int Errno { get; } = errno;
    public string? KernelMessage { get; } = kernelMessage;
}

/// <summary>
/// An AF_NETLINK / NETLINK_GENERIC socket. Requests are synchronous (the kernel answers IPVS requests within
/// microseconds) and serialised by a lock; <see cref="Batch"/> sends many requests per system call. Like any
/// socket it belongs to the network namespace of the thread that opened it.
/// </summary>
public sealed class GenericNetlinkSocket : IDisposable
{
    public const int ENOENT = 2;
    public const int ESRCH = 3;

    private const int NetlinkGeneric = 16;
    private const int SolNetlink = 270;
    private const int NetlinkCapAck = 10;
    private const int NetlinkExtAck = 11;
    private const int SoRcvBufForce = 33;
    private const ushort NlmsgError = 2;
    private const ushort NlmsgDone = 3;
    private const ushort NlmFAckTlvs = 0x200;
    private const ushort NlmsgerrAttrMsg = 1;
    private const int HeaderLength = NetlinkMessageWriter.MessageHeaderLength;
    // Dumps are sized by the kernel to at most 32 KiB per datagram.
    private const int ReceiveBufferSize = 64 * 1024;
    // Requests per send in a batch: the kernel acks each one and the acks must fit the receive buffer.
    private const int BatchBytes = 32 * 1024;

    private readonly int _fd;
    private readonly object _lock = new();
    private readonly byte[] _buffer = new byte[ReceiveBufferSize];
    private uint _sequence;
    private bool _disposed;

    public TimeSpan AnswerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    private GenericNetlinkSocket(int fd) => _fd = fd;

    public static unsafe GenericNetlinkSocket Open()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("netlink encoding here assumes a little-endian host");
        }
        var fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NetlinkGeneric);
        if (fd < 0)
        {
            throw new IOException($"opening a NETLINK_GENERIC socket: {Describe(errno)}");
        }
        int one = 1;
        // Acks without a copy of the request, and with the kernel's error text when it has one (best effort).
        setsockopt(fd, SolNetlink, NetlinkCapAck, &one, sizeof(int));
        setsockopt(fd, SolNetlink, NetlinkExtAck, &one, sizeof(int));
        int size = 4 * 1024 * 1024;
        if (setsockopt(fd, SOL_SOCKET, SoRcvBufForce, &size, sizeof(int)) != 0)
        {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(int));
        }
        return new GenericNetlinkSocket(fd);
    }

    public uint NextSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>Resolves a generic netlink family's id; null if the kernel has no such family (ENOENT).</summary>
    public ushort? ResolveFamily(string name)
    {
        var writer = new NetlinkMessageWriter();
        var sequence = NextSequence();
        IpvsMessages.WriteGetFamily(writer, sequence, name);
        try
        {
            var answer = Request(writer.Written, sequence, dump: false);
            if (answer.Count == 0)
            {
                throw new InvalidDataException($"the generic netlink controller did not answer for family {name}");
            }
            return IpvsMessages.ReadFamilyId(answer[0]);
        }
        catch (NetlinkErrorException e) when (e.Errno == ENOENT)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends one request (already encoded with <paramref name="sequence"/>) and returns the payloads (after nlmsghdr)
    /// of the answer's data messages, up to the ack or, for a dump, NLMSG_DONE.
    /// </summary>
    public IReadOnlyList<byte[]> Request(ReadOnlySpan<byte> request, uint sequence, bool dump)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Send(request);
            var messages = new List<byte[]>();
            var deadline = DateTime.UtcNow + AnswerTimeout;
            while (true)
            {
                var length = ReceiveOne(deadline);
                var span = _buffer.AsSpan(0, length);
                while (span.Length >= HeaderLength)
                {
                    var messageLength = ReadHeader(span, out var type, out var flags, out var messageSequence);
                    var payload = span[HeaderLength..messageLength];
                    span = span[Math.Min(NetlinkMessageWriter.Align(messageLength), span.Length)..];
                    if (messageSequence != sequence)
                    {
                        continue; // a late answer to an earlier request
                    }
                    if (type == NlmsgError)
                    {
                        ThrowIfError(payload, flags);
                        if (!dump)
                        {
                            return messages;
                        }
                        continue;
                    }
                    if (type == NlmsgDone)
                    {
                        if (payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(payload) is var error and < 0)
                        {
                            throw new NetlinkErrorException(-error, null);
                        }
                        return messages;
                    }
                    messages.Add(payload.ToArray());
                }
            }
        }
    }

    /// <summary>
    /// Sends many acked requests, packed into few datagrams (the kernel processes every message of a datagram and
    /// acks each). <paramref name="encode"/> writes request i with the given sequence number. Returns the errno of
    /// each request (0: done), in order.
    /// </summary>
    public int[] Batch(int count, Action<NetlinkMessageWriter, int, uint> encode)
    {
        var results = new int[count];
        var writer = new NetlinkMessageWriter(BatchBytes + 1024);
        // One block of sequence numbers: request i carries baseSequence + i.
        var baseSequence = Interlocked.Add(ref _sequence, (uint)count) - (uint)count + 1;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var index = 0;
            while (index < count)
            {
                writer.Clear();
                var first = index;
                while (index < count && writer.Length < BatchBytes)
                {
                    encode(writer, index, unchecked(baseSequence + (uint)index));
                    index++;
                }
                Send(writer.Written);
                var pending = index - first;
                var deadline = DateTime.UtcNow + AnswerTimeout;
                while (pending > 0)
                {
                    var length = ReceiveOne(deadline);
                    var span = _buffer.AsSpan(0, length);
                    while (span.Length >= HeaderLength)
                    {
                        var messageLength = ReadHeader(span, out var type, out _, out var messageSequence);
                        var payload = span[HeaderLength..messageLength];
                        span = span[Math.Min(NetlinkMessageWriter.Align(messageLength), span.Length)..];
                        var slot = (long)unchecked(messageSequence - baseSequence);
                        if (type != NlmsgError || slot < first || slot >= index)
                        {
                            continue;
                        }
                        results[slot] = -BinaryPrimitives.ReadInt32LittleEndian(payload);
                        pending--;
                    }
                }
            }
        }
        return results;
    }

    /// <summary>Reads an nlmsghdr; returns the message's length (checked against the datagram).</summary>
    internal static int ReadHeader(ReadOnlySpan<byte> span, out ushort type, out ushort flags, out uint sequence)
    {
        var messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
        if (messageLength < HeaderLength || messageLength > span.Length)
        {
            throw new InvalidDataException($"malformed netlink message ({messageLength} of {span.Length} bytes)");
        }
        type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
        flags = BinaryPrimitives.ReadUInt16LittleEndian(span[6..]);
        sequence = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        return messageLength;
    }

    private static void ThrowIfError(ReadOnlySpan<byte> payload, ushort flags)
    {
        var error = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (error == 0)
        {
            return;
        }
        string? message = null;
        // struct nlmsgerr { int error; struct nlmsghdr msg; } then, with NLM_F_ACK_TLVS, attributes.
        if ((flags & NlmFAckTlvs) != 0 && payload.Length > 4 + HeaderLength)
        {
            try
            {
                var attributes = NetlinkAttributes.Parse(payload[(4 + HeaderLength)..], stackalloc int[64]);
                message = attributes.String(NlmsgerrAttrMsg);
            }
            catch (InvalidDataException)
            {
                // the error itself is what matters
            }
        }
        throw new NetlinkErrorException(-error, string.IsNullOrEmpty(message) ? null : message);
    }

    private unsafe void Send(ReadOnlySpan<byte> request)
    {
        fixed (byte* p = request)
        {
            while (true)
            {
                var sent = (long)send(_fd, p, request.Length, 0);
                if (sent >= 0)
                {
                    return;
                }
                if (errno != EINTR)
                {
                    throw new IOException($"sending to generic netlink: {Describe(errno)}");
                }
            }
        }
    }

    private unsafe int ReceiveOne(DateTime deadline)
    {
        while (true)
        {
            var remaining = (int)Math.Max(0, (deadline - DateTime.UtcNow).TotalMilliseconds);
            var poll = new pollfd { fd = _fd, events = POLLIN };
            var ready = LibC.poll(&poll, 1, remaining);
            if (ready < 0 && errno == EINTR)
            {
                continue;
            }
            if (ready < 0)
            {
                throw new IOException($"waiting for generic netlink: {Describe(errno)}");
            }
            if (ready == 0)
            {
                throw new TimeoutException($"no answer from the kernel within {AnswerTimeout.TotalSeconds} s");
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
                    // ENOBUFS: the kernel dropped answers because the receive buffer overflowed.
                    throw new IOException($"receiving from generic netlink: {Describe(errno)}");
                }
                return (int)received;
            }
        }
    }

    /// <summary>"no such file or directory (ENOENT)": strerror in lower case plus the symbolic name.</summary>
    public static string Describe(int errno)
    {
        var message = Marshal.GetPInvokeErrorMessage(errno);
        message = message.Length > 0 ? char.ToLowerInvariant(message[0]) + message[1..] : $"errno {errno}";
        return Names.TryGetValue(errno, out var name) ? $"{message} ({name})" : $"{message} (errno {errno})";
    }

    private static readonly Dictionary<int, string> Names = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [12] = "ENOMEM", [13] = "EACCES", [16] = "EBUSY",
        [17] = "EEXIST", [19] = "ENODEV", [22] = "EINVAL", [28] = "ENOSPC", [34] = "ERANGE", [92] = "ENOPROTOOPT",
        [95] = "EOPNOTSUPP", [97] = "EAFNOSUPPORT", [98] = "EADDRINUSE", [99] = "EADDRNOTAVAIL", [105] = "ENOBUFS",
    };

    internal static string Text(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            close(_fd);
        }
    }
}
