using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
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
        if (options.JoinMulticastGroup)
        {
            SetOption(socket, SOL_IP, IP_ADD_MEMBERSHIP, MembershipRequest(MulticastGroup, options.SourceAddress, index));
        }

        if (options.SourceAddress is { } source)
        {
            socket.Bind(new IPEndPoint(source, 0));
        }
    }

    /// <summary>Waits for the next protocol-112 datagram on the interface.</summary>
    public async ValueTask<VrrpPacket> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await _socket.ReceiveMessageFromAsync(_receiveBuffer, SocketFlags.None,
                new IPEndPoint(IPAddress.Any, 0), cancellationToken).ConfigureAwait(false);
            if (TryParse(_receiveBuffer.AsSpan(0, result.ReceivedBytes), result.PacketInformation.Interface,
                    InterfaceName, out var packet))
            {
                return packet;
            }
            // A datagram too short to carry an IP header cannot come from the kernel's raw path; skip it.
        }
    }

    /// <summary>
    /// Blocking receive for a dedicated receive thread: the next datagram, or null when <paramref name="timeout"/>
    /// passes first (so the thread can look at its cancellation token).
    /// </summary>
    public VrrpPacket? Receive(TimeSpan timeout)
    {
        _socket.ReceiveTimeout = (int)Math.Max(1, timeout.TotalMilliseconds);
        while (true)
        {
            var flags = SocketFlags.None;
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int received;
            IPPacketInformation info;
            try
            {
                received = _socket.ReceiveMessageFrom(_receiveBuffer, ref flags, ref from, out info);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                return null;
            }
            if (TryParse(_receiveBuffer.AsSpan(0, received), info.Interface, InterfaceName, out var packet))
            {
                return packet;
            }
        }
    }

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
