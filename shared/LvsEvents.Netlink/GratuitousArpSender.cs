using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using static Tmds.Linux.LibC;

namespace LvsEvents.Netlink;

/// <summary>
/// Sends <see cref="GratuitousArp"/> frames on one interface through an AF_PACKET / SOCK_RAW socket, as keepalived
/// does for garp_master_delay / garp_master_repeat / garp_master_refresh. The socket, and so the interface name,
/// index and MAC, belong to the network namespace of the thread that called <see cref="Open"/>, whichever thread
/// sends later.
/// </summary>
public sealed class GratuitousArpSender : IDisposable
{
    private const int AfPacket = 17;
    private const ulong SiocGifHwaddr = 0x8927;
    private const ulong SiocGifIndex = 0x8933;
    private const int IfReqLength = 40;
    private const int IfNameSize = 16;
    private const int SockaddrLlLength = 20;
    private const ushort ArpHardwareEther = 1;

    private readonly int _fd;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private bool _disposed;

    private GratuitousArpSender(int fd, string interfaceName, int index)
    {
        _fd = fd;
        InterfaceName = interfaceName;
        InterfaceIndex = index;
    }

    public string InterfaceName { get; }
    public int InterfaceIndex { get; }

    /// <summary>Opens the socket on <paramref name="interfaceName"/> in the calling thread's network namespace.</summary>
    public static unsafe GratuitousArpSender Open(string interfaceName)
    {
        if (interfaceName.Length == 0 || Encoding.UTF8.GetByteCount(interfaceName) >= IfNameSize)
        {
            throw new ArgumentException($"'{interfaceName}' is not a valid interface name", nameof(interfaceName));
        }
        // Protocol 0: the socket only sends; it must not queue a copy of every frame on the interface.
        var fd = socket(AfPacket, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new NetlinkException($"opening an AF_PACKET socket for {interfaceName}", errno);
        }
        try
        {
            var index = BinaryPrimitives.ReadInt32LittleEndian(InterfaceRequest(fd, interfaceName, SiocGifIndex,
                $"looking up {interfaceName}").AsSpan(IfNameSize));
            var address = SockaddrLl(index, 0);
            fixed (byte* a = address)
            {
                if (bind(fd, (Tmds.Linux.sockaddr*)a, SockaddrLlLength) != 0)
                {
                    throw new NetlinkException($"binding an AF_PACKET socket to {interfaceName}", errno);
                }
            }
            return new GratuitousArpSender(fd, interfaceName, index);
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    /// <summary>The interface's current MAC (SIOCGIFHWADDR), read afresh so a changed MAC is announced.</summary>
    public byte[] HardwareAddress()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var request = InterfaceRequest(_fd, InterfaceName, SiocGifHwaddr, $"reading the MAC of {InterfaceName}");
        // ifr_hwaddr is a sockaddr: sa_family (the ARPHRD type) then sa_data.
        var type = BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(IfNameSize));
        if (type != ArpHardwareEther)
        {
            throw new NotSupportedException($"{InterfaceName} is not Ethernet (ARPHRD {type}); gratuitous ARP is sent on Ethernet only");
        }
        return request.AsSpan(IfNameSize + 2, 6).ToArray();
    }

    /// <summary>
    /// Sends <paramref name="count"/> gratuitous ARPs for <paramref name="vip"/>, <paramref name="interval"/> apart
    /// (keepalived's garp_master_repeat and garp_interval).
    /// </summary>
    /// <summary>
    /// One gratuitous ARP for <paramref name="vip"/>, on the calling thread: what a new master sends the moment its
    /// VIP is up, before anything is scheduled, so that neighbours' caches move without waiting for a thread.
    /// </summary>
    public void SendNow(IPAddress vip)
    {
        _lock.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Send(GratuitousArp.Build(vip, HardwareAddress()), vip);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task SendAsync(IPAddress vip, int count, TimeSpan interval, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            }
            await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                Send(GratuitousArp.Build(vip, HardwareAddress()), vip);
            }
            finally
            {
                _lock.Release();
            }
        }
    }

    private unsafe void Send(byte[] frame, IPAddress vip)
    {
        var address = SockaddrLl(InterfaceIndex, GratuitousArp.EtherTypeArp);
        while (true)
        {
            long sent;
            fixed (byte* f = frame)
            fixed (byte* a = address)
            {
                sent = (long)sendto(_fd, f, frame.Length, 0, (Tmds.Linux.sockaddr*)a, SockaddrLlLength);
            }
            if (sent < 0 && errno == EINTR)
            {
                continue;
            }
            if (sent < 0)
            {
                throw new NetlinkException($"sending a gratuitous ARP for {vip} on {InterfaceName}", errno);
            }
            return;
        }
    }

    /// <summary>struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8].</summary>
    private static byte[] SockaddrLl(int index, ushort protocol)
    {
        var address = new byte[SockaddrLlLength];
        BinaryPrimitives.WriteUInt16LittleEndian(address, AfPacket);
        BinaryPrimitives.WriteUInt16BigEndian(address.AsSpan(2), protocol);
        BinaryPrimitives.WriteInt32LittleEndian(address.AsSpan(4), index);
        address[11] = 6;
        address.AsSpan(12, 6).Fill(0xff);
        return address;
    }

    /// <summary>A struct ifreq ioctl; the kernel resolves the name in the socket's namespace.</summary>
    private static unsafe byte[] InterfaceRequest(int fd, string name, ulong request, string operation)
    {
        var ifreq = new byte[IfReqLength];
        Encoding.UTF8.GetBytes(name, ifreq);
        fixed (byte* p = ifreq)
        {
            if (Ioctl(fd, request, p) != 0)
            {
                throw new NetlinkException(operation, Marshal.GetLastPInvokeError());
            }
        }
        return ifreq;
    }

    // Tmds.LibC has no ioctl; errno is captured by the runtime right after the call.
    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static extern unsafe int Ioctl(int fd, ulong request, byte* argument);

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
