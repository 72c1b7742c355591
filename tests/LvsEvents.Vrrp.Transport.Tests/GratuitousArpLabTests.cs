using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using LvsEvents.Netlink;
using Tmds.Linux;

namespace LvsEvents.Vrrp.Transport.Tests;

/// <summary>
/// Gratuitous ARP between two lab nodes on one bridge: A's sender is opened in A's namespace and used from the
/// test thread (host namespace); B listens with its own AF_PACKET socket, the independent witness of the wire.
/// </summary>
public sealed class GratuitousArpLabTests : IDisposable
{
    private readonly NetworkLab _lab = new();
    private readonly LabNode _a;
    private readonly LabNode _b;

    public GratuitousArpLabTests()
    {
        _a = _lab.AddNode("a", 1);
        _b = _lab.AddNode("b", 2);
    }

    public void Dispose() => _lab.Dispose();

    [Fact(Timeout = 10_000)]
    public async Task Garps_sent_by_a_reach_b_as_keepalived_requests_for_the_vip()
    {
        var vip = _lab.Address(100);
        var macOfA = MacOf(_a.Namespace);
        using var listener = _b.Run(() => ArpListener.Open("eth0"));
        using var sender = _a.Run(() => GratuitousArpSender.Open("eth0"));
        Assert.Equal(macOfA, Convert.ToHexStringLower(sender.HardwareAddress()));

        var clock = Stopwatch.StartNew();
        await sender.SendAsync(vip, 3, TimeSpan.FromMilliseconds(100));
        // Three frames, two intervals between them.
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(5));

        // Collect a while after the last one, so a fourth frame would be seen too.
        var frames = listener.Receive(TimeSpan.FromMilliseconds(500))
            .Where(f => f.SenderIp.Equals(vip))
            .ToList();

        Assert.Equal(3, frames.Count);
        Assert.All(frames, f =>
        {
            Assert.Equal(GratuitousArp.OpRequest, f.Op);
            Assert.Equal(macOfA, f.SenderMac);
            Assert.Equal(macOfA, f.EthernetSource);
            Assert.Equal("ffffffffffff", f.EthernetDestination);
            Assert.Equal(vip, f.TargetIp);
            Assert.Equal("ffffffffffff", f.TargetMac);
        });
    }

    [Fact(Timeout = 10_000)]
    public async Task An_unknown_interface_is_a_clear_error_naming_it()
    {
        // Task.Run: xunit enforces Timeout on async tests only.
        var error = await Assert.ThrowsAsync<NetlinkException>(() => Task.Run(() => _a.Run(() => GratuitousArpSender.Open("eth9"))));
        Assert.Equal("looking up eth9: no such device (ENODEV)", error.Message);
    }

    [Fact(Timeout = 10_000)]
    public async Task Zero_garps_send_nothing()
    {
        using var listener = _b.Run(() => ArpListener.Open("eth0"));
        using var sender = _a.Run(() => GratuitousArpSender.Open("eth0"));
        var vip = _lab.Address(101);

        await sender.SendAsync(vip, 0, TimeSpan.FromMilliseconds(100));

        Assert.DoesNotContain(listener.Receive(TimeSpan.FromMilliseconds(300)), f => f.SenderIp.Equals(vip));
    }

    /// <summary>The MAC of eth0 in <paramref name="ns"/> as iproute2 reports it, hex without separators.</summary>
    private static string MacOf(string ns)
    {
        var fields = NetworkLab.Run("ip", $"-n {ns} -o link show eth0").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields[Array.IndexOf(fields, "link/ether") + 1].Replace(":", "");
    }
}

/// <summary>The frame bytes, as a capture of keepalived's gratuitous ARP shows them.</summary>
public sealed class GratuitousArpTests
{
    [Fact]
    public void Frame_is_broadcast_arp_request_with_the_vip_as_sender_and_target()
    {
        var frame = GratuitousArp.Build(IPAddress.Parse("192.0.2.10"), [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);

        byte[] expected =
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // Ethernet destination: broadcast
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55, // Ethernet source: the interface
            0x08, 0x06,                         // ethertype ARP
            0x00, 0x01, 0x08, 0x00, 6, 4,       // hardware Ethernet, protocol IPv4, lengths 6 and 4
            0x00, 0x01,                         // op: request
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55, // sender MAC
            192, 0, 2, 10,                      // sender IP: the VIP
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // target MAC, as keepalived fills it
            192, 0, 2, 10,                      // target IP: the VIP
        ];
        Assert.Equal(42, GratuitousArp.FrameLength);
        Assert.Equal(expected, frame);
    }

    [Fact]
    public void Ipv6_and_short_macs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => GratuitousArp.Build(IPAddress.IPv6Loopback, new byte[6]));
        Assert.Throws<ArgumentException>(() => GratuitousArp.Build(IPAddress.Loopback, new byte[5]));
    }
}

/// <summary>A received ARP frame's fields; MACs as lower-case hex without separators.</summary>
public sealed record ArpFrame(string EthernetDestination, string EthernetSource, ushort Op, string SenderMac,
    IPAddress SenderIp, string TargetMac, IPAddress TargetIp);

/// <summary>An AF_PACKET socket receiving only ARP (ETH_P_ARP) on one interface of the namespace it was opened in.</summary>
public sealed class ArpListener : IDisposable
{
    private const int AfPacket = 17;
    private const ushort EthPArp = 0x0806;
    private readonly int _fd;

    private ArpListener(int fd) => _fd = fd;

    public static unsafe ArpListener Open(string device)
    {
        var index = (int)IfNameToIndex(device);
        if (index == 0)
        {
            throw new InvalidOperationException($"no {device} here: errno {Marshal.GetLastPInvokeError()}");
        }
        // Protocol in network order, as packet(7) wants it.
        var protocol = BinaryPrimitives.ReverseEndianness(EthPArp);
        var fd = LibC.socket(AfPacket, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            throw new InvalidOperationException($"AF_PACKET socket: errno {LibC.errno}");
        }
        var address = new byte[20];
        BinaryPrimitives.WriteUInt16LittleEndian(address, AfPacket);
        BinaryPrimitives.WriteUInt16BigEndian(address.AsSpan(2), EthPArp);
        BinaryPrimitives.WriteInt32LittleEndian(address.AsSpan(4), index);
        fixed (byte* a = address)
        {
            if (LibC.bind(fd, (sockaddr*)a, 20) != 0)
            {
                var e = LibC.errno;
                LibC.close(fd);
                throw new InvalidOperationException($"binding to {device}: errno {e}");
            }
        }
        return new ArpListener(fd);
    }

    /// <summary>Every ARP frame that arrives within <paramref name="window"/> (frames queued before included).</summary>
    public unsafe IReadOnlyList<ArpFrame> Receive(TimeSpan window)
    {
        var frames = new List<ArpFrame>();
        var buffer = new byte[2048];
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < window)
        {
            var poll = new pollfd { fd = _fd, events = LibC.POLLIN };
            var remaining = (int)Math.Max(1, (window - deadline.Elapsed).TotalMilliseconds);
            if (LibC.poll(&poll, 1, remaining) <= 0)
            {
                continue;
            }
            long length;
            fixed (byte* b = buffer)
            {
                length = (long)LibC.recv(_fd, b, buffer.Length, 0);
            }
            if (length < GratuitousArp.FrameLength)
            {
                continue;
            }
            var f = buffer.AsSpan();
            frames.Add(new ArpFrame(
                Convert.ToHexStringLower(f[..6]), Convert.ToHexStringLower(f[6..12]),
                BinaryPrimitives.ReadUInt16BigEndian(f[20..]),
                Convert.ToHexStringLower(f[22..28]), new IPAddress(f[28..32]),
                Convert.ToHexStringLower(f[32..38]), new IPAddress(f[38..42])));
        }
        return frames;
    }

    [DllImport("libc", EntryPoint = "if_nametoindex", SetLastError = true)]
    private static extern uint IfNameToIndex([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    public void Dispose() => LibC.close(_fd);
}
