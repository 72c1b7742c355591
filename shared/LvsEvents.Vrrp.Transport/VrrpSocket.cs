using LvsEvents.Netlink;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using LvsEvents.Vrrp.Protocol;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LvsEvents.Vrrp.Transport;

/// <summary>
/// A raw IPv4 socket for IP protocol 112 on one interface, set up as keepalived sets up its own: bound to the
/// device, member of 224.0.0.18 there, multicast TTL 255 and no loopback, TOS 0xc0 (network control).
/// The kernel builds the IP header on send; a raw IPv4 socket always hands the IP header up on receive,
/// which is where the TTL comes from.
/// The socket belongs to the network namespace of the thread that opens it, for its whole life.
/// </summary>
public sealed class VrrpSocket : IDisposable
{
    public const int Protocol = 112;
    public const byte NetworkControlTos = 0xc0;
    public static readonly IPAddress MulticastGroup = ReceivedIpHeader.VrrpMulticastGroup;

    // Largest VRRP message: 8 header + 255 addresses + 8 auth, behind an IP header with up to 40 bytes of options.
    private const int ReceiveBufferSize = 60 + 8 + 4 * 255 + 8;

    private readonly Socket _socket;
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];

    private VrrpSocket(Socket socket, VrrpSocketOptions options, int interfaceIndex, IPAddress sourceAddress)
    {
        _socket = socket;
        Options = options;
        InterfaceIndex = interfaceIndex;
        SourceAddress = sourceAddress;
    }

    public VrrpSocketOptions Options { get; }
    public int InterfaceIndex { get; }
    public string InterfaceName => Options.InterfaceName;

    /// <summary>Opens the socket in the calling thread's network namespace.</summary>
    /// <exception cref="VrrpTransportPermissionException">without CAP_NET_RAW.</exception>
    public static VrrpSocket Open(VrrpSocketOptions options)
    {
        var index = InterfaceIndexOf(options.InterfaceName);
        // Read here, not at send time: sends may run on any thread, and another thread may be in another
        // namespace with an interface of the same name (exactly what the namespace lab has).
        var source = options.SourceAddress ?? PrimaryAddressOf(options.InterfaceName);
        // Through libc: .NET's Socket constructor only knows the protocol numbers it has names for, not 112.
        var fd = LibC.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, Protocol);
        if (fd < 0)
        {
            var code = errno;
            if (code == EPERM || code == EACCES)
            {
                throw new VrrpTransportPermissionException(new SocketException(code));
            }
            throw new SocketException(code);
        }
        var rawSocket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));

        try
        {
            Configure(rawSocket, options, index);
            return new VrrpSocket(rawSocket, options, index, source);
        }
        catch
        {
            rawSocket.Dispose();
            throw;
        }
    }

    private static void Configure(Socket socket, VrrpSocketOptions options, int index)
    {
        // Only this interface's packets: a director has one instance per interface, often with equal VRIDs.
        var name = System.Text.Encoding.ASCII.GetBytes(options.InterfaceName + "\0");
        SetOption(socket, SOL_SOCKET, SO_BINDTODEVICE, name);

        SetOption(socket, SOL_IP, IP_TOS, Int(NetworkControlTos));
        // RFC 3768 5.2.3 / RFC 5798 5.1.1.3: sent with TTL 255, and receivers drop anything else.
        SetOption(socket, SOL_IP, IP_TTL, Int(255));
        SetOption(socket, SOL_IP, IP_MULTICAST_TTL, Int(255));
        // Our own adverts must not come back as if from a peer.
        SetOption(socket, SOL_IP, IP_MULTICAST_LOOP, Int(0));
        SetOption(socket, SOL_IP, IP_MULTICAST_IF, MembershipRequest(IPAddress.Any, options.SourceAddress, index));
        SetOption(socket, SOL_IP, IP_PKTINFO, Int(1));
        // The kernel's receive time of each advert: the master-down timer starts there, not when a thread read it.
        SetOption(socket, SOL_SOCKET, SO_TIMESTAMPNS, Int(1));
        if (options.JoinMulticastGroup)
        {
            SetOption(socket, SOL_IP, IP_ADD_MEMBERSHIP, MembershipRequest(MulticastGroup, options.SourceAddress, index));
        }

        if (options.SourceAddress is { } source)
        {
            socket.Bind(new IPEndPoint(source, 0));
        }
    }

    /// <summary>
    /// Waits for the next protocol-112 datagram on the interface: <see cref="Receive"/> on the thread pool, in
    /// short waits so that cancellation is seen within <see cref="AsyncPollInterval"/>.
    /// </summary>
    public async ValueTask<VrrpPacket> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await Task.Run(() => Receive(AsyncPollInterval), cancellationToken).ConfigureAwait(false) is { } packet)
            {
                return packet;
            }
        }
    }

    private static readonly TimeSpan AsyncPollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Blocking receive for a dedicated receive thread: the next datagram, or null when <paramref name="timeout"/>
    /// passes first (so the thread can look at its cancellation token). Read with recvmsg so that the kernel's
    /// receive timestamp (SO_TIMESTAMPNS) comes with it, as <see cref="VrrpPacket.KernelReceivedAt"/>.
    /// </summary>
    public unsafe VrrpPacket? Receive(TimeSpan timeout)
    {
        var handle = _socket.SafeHandle;
        var added = false;
        // Held for the whole wait: a Dispose on another thread must not close (and let the kernel reuse) the fd under us.
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            var deadline = Environment.TickCount64 + (long)Math.Max(1, timeout.TotalMilliseconds);
            var control = stackalloc byte[ControlBufferSize];
            while (true)
            {
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    return null;
                }
                var poll = new pollfd { fd = fd, events = POLLIN };
                var ready = InterruptiblePoll.Wait(&poll, 1, (int)remaining, out var pollError);
                if (ready < 0 && pollError == EINTR)
                {
                    continue;
                }
                if (ready < 0)
                {
                    throw new SocketException(pollError);
                }
                if (ready == 0)
                {
                    return null;
                }
                fixed (byte* buffer = _receiveBuffer)
                {
                    var vector = new IoVector { Base = buffer, Length = (nuint)_receiveBuffer.Length };
                    var message = new MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = ControlBufferSize };
                    var received = RecvMsg(fd, &message, MSG_DONTWAIT);
                    if (received < 0)
                    {
                        var code = Marshal.GetLastPInvokeError();
                        if (code == EINTR || code == EAGAIN)
                        {
                            continue;
                        }
                        throw new SocketException(code);
                    }
                    var (interfaceIndex, stamp) = ReadControl(control, (int)message.ControlLength);
                    if (TryParse(_receiveBuffer.AsSpan(0, (int)received), interfaceIndex, InterfaceName, out var packet))
                    {
                        return packet with { KernelReceivedAt = stamp };
                    }
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Whether a datagram is queued on the socket right now (poll, no wait).</summary>
    public unsafe bool HasPendingPacket()
    {
        var handle = _socket.SafeHandle;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var poll = new pollfd { fd = (int)handle.DangerousGetHandle(), events = POLLIN };
            return LibC.poll(&poll, 1, 0) > 0 && (poll.revents & POLLIN) != 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    // Two control messages come with each datagram: the timestamp (16 + 16 bytes) and IP_PKTINFO (16 + 12, aligned to 32).
    private const int ControlBufferSize = 128;
    private const int ControlHeaderLength = 16;

    /// <summary>The receiving interface (IP_PKTINFO) and the kernel's receive time (SCM_TIMESTAMPNS) among the control messages.</summary>
    private static unsafe (int InterfaceIndex, DateTimeOffset? Stamp) ReadControl(byte* control, int length)
    {
        var interfaceIndex = 0;
        DateTimeOffset? stamp = null;
        var offset = 0;
        while (offset + ControlHeaderLength <= length)
        {
            // struct cmsghdr (64-bit): size_t cmsg_len, int cmsg_level, int cmsg_type, then the data.
            var messageLength = (int)*(ulong*)(control + offset);
            var level = *(int*)(control + offset + 8);
            var type = *(int*)(control + offset + 12);
            if (messageLength < ControlHeaderLength || offset + messageLength > length)
            {
                break;
            }
            var data = control + offset + ControlHeaderLength;
            if (level == SOL_SOCKET && type == SCM_TIMESTAMPNS && messageLength >= ControlHeaderLength + 16)
            {
                var seconds = *(long*)data;
                var nanoseconds = *(long*)(data + 8);
                stamp = DateTimeOffset.UnixEpoch.AddTicks(seconds * TimeSpan.TicksPerSecond + nanoseconds / 100);
            }
            else if (level == SOL_IP && type == IP_PKTINFO && messageLength >= ControlHeaderLength + 4)
            {
                interfaceIndex = *(int*)data;
            }
            offset += (messageLength + 7) & ~7;
        }
        return (interfaceIndex, stamp);
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    // struct msghdr (64-bit): name, namelen (+ padding), iov, iovlen, control, controllen, flags.
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    // Declared here with the layout above rather than through Tmds.LibC's structs; errno is captured by the runtime.
    [DllImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static extern unsafe nint RecvMsg(int fd, MessageHeader* message, int flags);

    /// <summary>Blocking send of one advert (see <see cref="Receive"/>), to 224.0.0.18 or a unicast peer.</summary>
    public void Send(VrrpAdvertisement advertisement, IPAddress? destination = null)
    {
        var to = destination ?? MulticastGroup;
        _socket.SendTo(advertisement.Encode(SourceAddress, to), SocketFlags.None, new IPEndPoint(to, 0));
    }

    /// <summary>Splits what a raw IPv4 socket delivers: the IP header (source, destination, TTL, TOS) and the VRRP message.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, int interfaceIndex, string interfaceName, out VrrpPacket packet)
    {
        packet = null!;
        if (datagram.Length < 20 || datagram[0] >> 4 != 4)
        {
            return false;
        }

        var headerLength = (datagram[0] & 0x0f) * 4;
        if (headerLength < 20 || headerLength > datagram.Length)
        {
            return false;
        }

        packet = new VrrpPacket(
            datagram[headerLength..].ToArray(),
            new IPAddress(datagram.Slice(12, 4)),
            new IPAddress(datagram.Slice(16, 4)),
            datagram[8],
            datagram[1],
            interfaceName,
            interfaceIndex);
        return true;
    }

    /// <summary>Sends one encoded VRRP message to 224.0.0.18 or to a unicast peer.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> vrrpMessage, IPAddress? destination = null,
        CancellationToken cancellationToken = default)
    {
        await _socket.SendToAsync(vrrpMessage, SocketFlags.None, new IPEndPoint(destination ?? MulticastGroup, 0),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The source address of our adverts (the VRRPv3 checksum covers it): <c>unicast_src_ip</c>, or the
    /// interface's primary IPv4 address when the socket was opened, which is also what the kernel picks.
    /// </summary>
    public IPAddress SourceAddress { get; }

    /// <summary>Encodes <paramref name="advertisement"/> for its real source and destination and sends it.</summary>
    public ValueTask SendAsync(VrrpAdvertisement advertisement, IPAddress? destination = null,
        CancellationToken cancellationToken = default)
        => SendAsync(advertisement.Encode(SourceAddress, destination ?? MulticastGroup), destination, cancellationToken);

    public void Dispose() => _socket.Dispose();

    private static int InterfaceIndexOf(string name)
        => Find(name).GetIPProperties().GetIPv4Properties()?.Index
           ?? throw new InvalidOperationException($"interface {name} has no IPv4");

    private static IPAddress PrimaryAddressOf(string name)
        => Find(name).GetIPProperties().UnicastAddresses
               .Select(a => a.Address).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
           ?? throw new InvalidOperationException($"interface {name} has no IPv4 address");

    // Enumerates through netlink in the calling thread's namespace, like the socket itself.
    private static NetworkInterface Find(string name)
        => NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(i => i.Name == name)
           ?? throw new InvalidOperationException($"no interface named {name}");

    private static byte[] Int(int value) => BitConverter.GetBytes(value);

    // struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex; }: the index picks the interface,
    // the address (if any) the source.
    private static byte[] MembershipRequest(IPAddress group, IPAddress? address, int index)
    {
        var bytes = new byte[12];
        group.TryWriteBytes(bytes.AsSpan(0, 4), out _);
        (address ?? IPAddress.Any).TryWriteBytes(bytes.AsSpan(4, 4), out _);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), index); // host order, as the kernel reads an int
        return bytes;
    }

    private static unsafe void SetOption(Socket socket, int level, int name, byte[] value)
    {
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        fixed (byte* p = value)
        {
            if (setsockopt(fd, level, name, p, (socklen_t)value.Length) != 0)
            {
                var code = errno;
                if (code == EPERM || code == EACCES)
                {
                    throw new VrrpTransportPermissionException(new SocketException(code));
                }
                throw new SocketException(code);
            }
        }
    }
}
