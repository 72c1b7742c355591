using System.Buffers.Binary;
using System.Diagnostics;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LvsEvents.Netlink;

/// <summary>An IPv4 address that appeared or went away, and when the notification was read (Stopwatch ticks).</summary>
public sealed record AddressNotification(bool Added, VirtualAddress Address, int InterfaceIndex, long ReceivedTimestamp);

/// <summary>
/// A NETLINK_ROUTE socket subscribed to RTNLGRP_IPV4_IFADDR: the kernel sends RTM_NEWADDR / RTM_DELADDR to it as
/// an address is added or removed (from inside the add, before the adder's ack), so a watcher learns of a VIP
/// without polling. Like any socket it belongs to the network namespace of the thread that opened it.
/// </summary>
public sealed class AddressNotifications : IDisposable
{
    private const int NetlinkRoute = 0;
    private const int NetlinkAddMembership = 1;
    private const int RtnlGroupIpv4Address = 5;
    private const ushort NlmsgOverrun = 4;
    private const int ReceiveBufferSize = 64 * 1024;

    private readonly int _fd;
    private readonly byte[] _buffer = new byte[ReceiveBufferSize];
    private int _disposed;

    private AddressNotifications(int fd) => _fd = fd;

    /// <summary>Opens and subscribes in the calling thread's network namespace; notifications queue from here on.</summary>
    public static unsafe AddressNotifications Open()
    {
        var fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NetlinkRoute);
        if (fd < 0)
            throw new NetlinkException("opening a NETLINK_ROUTE socket", errno);
        // Bound first, so that the kernel gives the socket a port id: notifications skip sockets whose port id is 0.
        var address = stackalloc byte[12]; // struct sockaddr_nl: family, pad, pid (0: the kernel picks), groups
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = (ushort)AF_NETLINK;
        if (bind(fd, (sockaddr*)address, 12) != 0)
        {
            var code = errno;
            close(fd);
            throw new NetlinkException("binding a NETLINK_ROUTE socket", code);
        }
        var group = RtnlGroupIpv4Address;
        if (setsockopt(fd, SOL_NETLINK, NetlinkAddMembership, &group, sizeof(int)) != 0)
        {
            var code = errno;
            close(fd);
            throw new NetlinkException("joining RTNLGRP_IPV4_IFADDR", code);
        }
        return new AddressNotifications(fd);
    }

    /// <summary>
    /// The notifications of the next datagram, or an empty list when <paramref name="timeout"/> passes first. Each
    /// is stamped right after the read returns. A receive-queue overrun (ENOBUFS: notifications were lost) throws.
    /// </summary>
    public unsafe IReadOnlyList<AddressNotification> Receive(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var poll = new pollfd { fd = _fd, events = POLLIN };
        var ready = InterruptiblePoll.Wait(&poll, 1, (int)Math.Max(0, timeout.TotalMilliseconds), out var pollError);
        if (ready < 0 && pollError == EINTR || ready == 0)
            return [];
        if (ready < 0)
            throw new NetlinkException("waiting for address notifications", pollError);
        long received;
        fixed (byte* p = _buffer)
            received = (long)recv(_fd, p, _buffer.Length, MSG_DONTWAIT);
        var stamp = Stopwatch.GetTimestamp();
        if (received < 0)
        {
            var code = errno;
            if (code == EAGAIN || code == EINTR)
                return [];
            throw new NetlinkException("reading address notifications", code);
        }
        var result = new List<AddressNotification>();
        var span = _buffer.AsSpan(0, (int)received);
        while (span.Length >= AddressMessage.HeaderLength)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
            if (length < AddressMessage.HeaderLength || length > span.Length)
                break;
            if (type == NlmsgOverrun)
                throw new NetlinkException("reading address notifications", ENOBUFS);
            if (type is AddressMessage.RtmNewAddr or AddressMessage.RtmDelAddr && length >= AddressMessage.HeaderLength + AddressMessage.IfAddrMsgLength)
            {
                var address = AddressMessage.Decode(span[AddressMessage.HeaderLength..length], "", out var index);
                result.Add(new AddressNotification(type == AddressMessage.RtmNewAddr, address, index, stamp));
            }
            span = span[Math.Min(AddressMessage.Align(length), span.Length)..];
        }
        return result;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            close(_fd);
    }
}
