using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LvsEvents.Netlink;

/// <summary>A failed rtnetlink request; <see cref="Errno"/> is what the kernel answered.</summary>
public sealed class NetlinkException(string operation, int errno)
    : IOException($"{operation}: {NetlinkSocket.Describe(errno)}")
{
    public int Errno { get; } = errno;
}

/// <summary>
/// An AF_NETLINK / NETLINK_ROUTE socket that sends one request at a time and reads the kernel's answer up to
/// its ack (or, for dumps, NLMSG_DONE). Like any socket it belongs to the network namespace of the thread that
/// opened it, for its whole life, whichever thread uses it later.
/// </summary>
public sealed class NetlinkSocket : IDisposable
{
    public const ushort NlmFRequest = 0x1;
    public const ushort NlmFAck = 0x4;
    public const ushort NlmFDump = 0x300;
    public const ushort NlmFExcl = 0x200;
    public const ushort NlmFCreate = 0x400;

    private const ushort NlmsgError = 2;
    private const ushort NlmsgDone = 3;
    private const int NetlinkRoute = 0;
    // Dumps pack many messages into one datagram; the kernel sizes them to at most a page or 32 KiB.
    private const int ReceiveBufferSize = 64 * 1024;
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    private readonly int _fd;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly byte[] _buffer = new byte[ReceiveBufferSize];
    private uint _sequence;
    private bool _disposed;

    private NetlinkSocket(int fd) => _fd = fd;

    /// <summary>Opens the socket in the calling thread's network namespace.</summary>
    public static NetlinkSocket Open()
    {
        // Netlink is native byte order and the encoders write little-endian.
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("rtnetlink encoding assumes a little-endian host");
        }
        var fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NetlinkRoute);
        if (fd < 0)
        {
            throw new NetlinkException("opening a NETLINK_ROUTE socket", errno);
        }
        return new NetlinkSocket(fd);
    }

    /// <summary>
    /// Sends <paramref name="build"/>(sequence) and returns the payloads (after nlmsghdr) of the answer's data
    /// messages. A negative ack becomes a <see cref="NetlinkException"/> naming <paramref name="operation"/>.
    /// </summary>
    public async Task<IReadOnlyList<(ushort Type, byte[] Payload)>> RequestAsync(
        Func<uint, byte[]> build, string operation, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var sequence = ++_sequence;
            var request = build(sequence);
            var dump = (BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(6)) & NlmFDump) == NlmFDump;
            // The kernel answers within microseconds; the blocking read is bounded by poll and kept off the caller.
            return await Task.Run(() => Exchange(request, sequence, dump, operation), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// <see cref="RequestAsync"/> on the calling thread: for a protocol loop on its own thread, where a hop
    /// through the thread pool would put a busy machine's queueing delay into a failover.
    /// </summary>
    public IReadOnlyList<(ushort Type, byte[] Payload)> Request(Func<uint, byte[]> build, string operation)
    {
        _lock.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var sequence = ++_sequence;
            var request = build(sequence);
            var dump = (BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(6)) & NlmFDump) == NlmFDump;
            return Exchange(request, sequence, dump, operation);
        }
        finally
        {
            _lock.Release();
        }
    }

    private unsafe List<(ushort, byte[])> Exchange(byte[] request, uint sequence, bool dump, string operation)
    {
        fixed (byte* p = request)
        {
            if ((long)send(_fd, p, request.Length, 0) < 0)
            {
                throw new NetlinkException(operation, errno);
            }
        }
        var messages = new List<(ushort, byte[])>();
        var deadline = DateTime.UtcNow + AnswerTimeout;
        while (true)
        {
            var length = ReceiveOne(deadline, operation);
            var span = _buffer.AsSpan(0, length);
            while (span.Length >= AddressMessage.HeaderLength)
            {
                var messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
                var type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
                var messageSequence = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
                if (messageLength < AddressMessage.HeaderLength || messageLength > span.Length)
                {
                    throw new IOException($"{operation}: malformed netlink message ({messageLength} of {span.Length} bytes)");
                }
                var payload = span[AddressMessage.HeaderLength..messageLength];
                span = span[Math.Min(AddressMessage.Align(messageLength), span.Length)..];
                if (messageSequence != sequence)
                {
                    // Late answer to an earlier request that timed out: not ours any more.
                    continue;
                }
                if (type == NlmsgError)
                {
                    var error = BinaryPrimitives.ReadInt32LittleEndian(payload);
                    if (error != 0)
                    {
                        throw new NetlinkException(operation, -error);
                    }
                    if (!dump)
                    {
                        return messages;
                    }
                    continue;
                }
                if (type == NlmsgDone)
                {
                    return messages;
                }
                messages.Add((type, payload.ToArray()));
            }
        }
    }

    private unsafe int ReceiveOne(DateTime deadline, string operation)
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
                throw new NetlinkException(operation, errno);
            }
            if (ready == 0)
            {
                throw new TimeoutException($"{operation}: no answer from the kernel within {AnswerTimeout.TotalSeconds} s");
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
                    throw new NetlinkException(operation, errno);
                }
                return (int)received;
            }
        }
    }

    /// <summary>"no such device (ENODEV)": strerror in lower case plus the symbolic name operators search for.</summary>
    public static string Describe(int errno)
    {
        var message = Marshal.GetPInvokeErrorMessage(errno);
        message = message.Length > 0 ? char.ToLowerInvariant(message[0]) + message[1..] : $"errno {errno}";
        return Names.TryGetValue(errno, out var name) ? $"{message} ({name})" : $"{message} (errno {errno})";
    }

    private static readonly Dictionary<int, string> Names = new()
    {
        [EPERM] = "EPERM", [ENOENT] = "ENOENT", [EINTR] = "EINTR", [ENOMEM] = "ENOMEM", [EACCES] = "EACCES",
        [EBUSY] = "EBUSY", [EEXIST] = "EEXIST", [ENODEV] = "ENODEV", [EINVAL] = "EINVAL", [ENOSPC] = "ENOSPC",
        [EOPNOTSUPP] = "EOPNOTSUPP", [EADDRINUSE] = "EADDRINUSE", [EADDRNOTAVAIL] = "EADDRNOTAVAIL",
        [ENOBUFS] = "ENOBUFS", [ENETDOWN] = "ENETDOWN", [EAFNOSUPPORT] = "EAFNOSUPPORT", [ERANGE] = "ERANGE",
    };

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
