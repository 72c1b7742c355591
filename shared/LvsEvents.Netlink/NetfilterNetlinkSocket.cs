using System.Buffers.Binary;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LvsEvents.Netlink;

/// <summary>A message of a batch the kernel refused: its sequence number, errno and the kernel's extended-ack text, if any.</summary>
public readonly record struct NetlinkBatchError(uint Sequence, int Errno, string? KernelMessage, int? AttributeOffset);

/// <summary>
/// An AF_NETLINK / NETLINK_NETFILTER socket for nfnetlink batches (nf_tables transactions): the whole batch
/// (NFNL_MSG_BATCH_BEGIN … messages … NFNL_MSG_BATCH_END) goes to the kernel in one send, which processes it within
/// that call, commits it or aborts it whole, and queues an error message for each message it refused. A request
/// sent right after (e.g. NFT_MSG_GETGEN) is answered after those errors, so reading up to its answer collects
/// every error and nothing else is waited for. Like any socket it belongs to the network namespace of the thread
/// that opened it (<see cref="Open"/> enters one when asked).
/// </summary>
public sealed class NetfilterNetlinkSocket : IDisposable
{
    public const ushort NlmFRequest = 0x1;
    public const ushort NlmFAck = 0x4;
    public const ushort NlmFAppend = 0x800;
    public const ushort NlmFCreate = 0x400;
    public const ushort NlmFExcl = 0x200;

    private const int NetlinkNetfilter = 12;
    private const int SolNetlink = 270;
    private const int NetlinkCapAck = 10;
    private const int NetlinkExtAck = 11;
    private const int SoSndBufForce = 32;
    private const int SoRcvBufForce = 33;
    private const ushort NlmsgError = 2;
    private const ushort NlmFAckTlvs = 0x200;
    private const ushort NlmsgerrAttrMsg = 1;
    private const ushort NlmsgerrAttrOffs = 2;
    private const int HeaderLength = 16;
    private const int ReceiveBufferSize = 256 * 1024;
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);

    private readonly int _fd;
    private readonly object _lock = new();
    private readonly byte[] _buffer = new byte[ReceiveBufferSize];
    private int _sendBuffer;
    private bool _disposed;

    private NetfilterNetlinkSocket(int fd) => _fd = fd;

    /// <summary>Opens the socket in <paramref name="networkNamespace"/> (from /run/netns), or in the caller's when null.</summary>
    public static NetfilterNetlinkSocket Open(string? networkNamespace = null) => NetworkNamespace.Run(networkNamespace, OpenHere);

    private static unsafe NetfilterNetlinkSocket OpenHere()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("netlink encoding here assumes a little-endian host");
        }

        var fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NetlinkNetfilter);
        if (fd < 0)
        {
            throw new NetlinkException("opening a NETLINK_NETFILTER socket", errno);
        }

        int one = 1;
        // Errors without a copy of the refused message, and with the kernel's own text when it has one.
        setsockopt(fd, SolNetlink, NetlinkCapAck, &one, sizeof(int));
        setsockopt(fd, SolNetlink, NetlinkExtAck, &one, sizeof(int));
        int size = 8 * 1024 * 1024;
        if (setsockopt(fd, SOL_SOCKET, SoRcvBufForce, &size, sizeof(int)) != 0)
        {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(int));
        }

        return new NetfilterNetlinkSocket(fd);
    }

    /// <summary>
    /// Sends <paramref name="batch"/> (messages numbered <paramref name="firstSequence"/> up to, not including,
    /// <paramref name="syncSequence"/>) in one datagram, then <paramref name="sync"/> (a request with sequence
    /// <paramref name="syncSequence"/> the kernel answers outside the batch), and returns the errors the kernel
    /// queued for the batch's messages, in the order it sent them: empty when it committed the batch.
    /// </summary>
    public IReadOnlyList<NetlinkBatchError> SendBatch(ReadOnlySpan<byte> batch, uint firstSequence, ReadOnlySpan<byte> sync, uint syncSequence)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            EnsureSendBuffer(batch.Length);
            Send(batch, "sending an nftables batch");
            Send(sync, "sending an nftables batch");
            var errors = new List<NetlinkBatchError>();
            var deadline = DateTime.UtcNow + AnswerTimeout;
            while (true)
            {
                var length = ReceiveOne(deadline);
                var span = _buffer.AsSpan(0, length);
                while (span.Length >= HeaderLength)
                {
                    var messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
                    if (messageLength < HeaderLength || messageLength > span.Length)
                    {
                        throw new IOException($"nftables batch: malformed netlink answer ({messageLength} of {span.Length} bytes)");
                    }

                    var type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(span[6..]);
                    var sequence = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
                    var payload = span[HeaderLength..messageLength];
                    span = span[Math.Min(NetlinkBatchWriter.Align(messageLength), span.Length)..];
                    if (type == NlmsgError && payload.Length >= 4)
                    {
                        var error = -BinaryPrimitives.ReadInt32LittleEndian(payload);
                        if (sequence == syncSequence)
                        {
                            if (error != 0)
                            {
                                throw new NetlinkException("reading the nftables generation after a batch", error);
                            }

                            return errors;
                        }

                        // Answers to an earlier batch that ended in an exception are not this batch's.
                        if (error != 0 && unchecked(sequence - firstSequence) < unchecked(syncSequence - firstSequence))
                        {
                            errors.Add(ReadError(sequence, error, flags, payload));
                        }
                    }
                    else if (sequence == syncSequence)
                    {
                        return errors;
                    }
                }
            }
        }
    }

    private static NetlinkBatchError ReadError(uint sequence, int error, ushort flags, ReadOnlySpan<byte> payload)
    {
        string? text = null;
        int? offset = null;
        if ((flags & NlmFAckTlvs) != 0 && payload.Length >= 4 + HeaderLength)
        {
            // With NETLINK_CAP_ACK only the refused message's header is echoed; the TLVs follow it.
            var attributes = payload[(4 + HeaderLength)..];
            while (attributes.Length >= 4)
            {
                var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
                var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3fff);
                if (length < 4 || length > attributes.Length)
                {
                    break;
                }

                var value = attributes[4..length];
                if (type == NlmsgerrAttrMsg)
                {
                    text = Encoding.UTF8.GetString(value.IndexOf((byte)0) is var nul and >= 0 ? value[..nul] : value);
                }
                else if (type == NlmsgerrAttrOffs && value.Length >= 4)
                {
                    offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(value);
                }

                attributes = attributes[Math.Min(NetlinkBatchWriter.Align(length), attributes.Length)..];
            }
        }

        return new NetlinkBatchError(sequence, error, string.IsNullOrEmpty(text) ? null : text, offset);
    }

    private unsafe void EnsureSendBuffer(int length)
    {
        // The kernel refuses a datagram larger than the socket's send buffer (less a little): size it to the batch.
        var wanted = length + 64 * 1024;
        if (wanted <= _sendBuffer)
        {
            return;
        }

        wanted = Math.Max(wanted, 2 * _sendBuffer);
        if (setsockopt(_fd, SOL_SOCKET, SoSndBufForce, &wanted, sizeof(int)) != 0)
        {
            setsockopt(_fd, SOL_SOCKET, SO_SNDBUF, &wanted, sizeof(int));
        }

        _sendBuffer = wanted;
    }

    private unsafe void Send(ReadOnlySpan<byte> data, string operation)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                var sent = (long)send(_fd, p, data.Length, 0);
                if (sent < 0 && errno == EINTR)
                {
                    continue;
                }

                if (sent < 0)
                {
                    throw new NetlinkException(operation, errno);
                }

                return;
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
                throw new NetlinkException("waiting for the kernel's answer to an nftables batch", errno);
            }

            if (ready == 0)
            {
                throw new TimeoutException($"nftables batch: no answer from the kernel within {AnswerTimeout.TotalSeconds} s");
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
                    // ENOBUFS: answers were lost (more refusals than the receive buffer holds); the batch was not committed.
                    throw new NetlinkException("reading the kernel's answer to an nftables batch", errno);
                }

                return (int)received;
            }
        }
    }

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
