using System.Net;
using System.Runtime.InteropServices;

namespace LvsEvents.Vrrp.Transport.Tests;

public sealed partial class VrrpSocketTests
{
    [Fact(Timeout = 10_000)]
    public async Task Without_CAP_NET_RAW_opening_fails_with_the_one_clear_message()
    {
        Exception? failure = null;
        // Capabilities are per thread in Linux: drop CAP_NET_RAW from this dedicated thread's effective set only,
        // so the root test process is otherwise untouched. The thread ends right after.
        var thread = new Thread(() =>
        {
            try
            {
                DropEffectiveCapability(CapNetRaw);
                using var socket = VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "lo" });
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        await Task.Run(thread.Join);

        var error = Assert.IsType<VrrpTransportPermissionException>(failure);
        Assert.Equal("lvs-vrrp needs CAP_NET_RAW and CAP_NET_ADMIN (run as root)", error.Message);
    }

    [Fact]
    public void Received_datagram_is_split_into_ip_facts_and_vrrp_message_past_ip_options()
    {
        // IPv4 header with one 4-byte option (IHL 6), TTL 255, protocol 112, 10.213.1.1 → 224.0.0.18.
        byte[] datagram =
        [
            0x46, 0xc0, 0, 32, 0, 0, 0x40, 0, 255, 112, 0, 0, 10, 213, 1, 1, 224, 0, 0, 18, 0x94, 4, 0, 0,
            0x21, 51, 100, 1, 1, 1, 0xab, 0xcd,
        ];
        Assert.True(VrrpSocket.TryParse(datagram, 7, "eth0", out var packet));
        Assert.Equal(IPAddress.Parse("10.213.1.1"), packet.Source);
        Assert.Equal(IPAddress.Parse("224.0.0.18"), packet.Destination);
        Assert.Equal(255, packet.TimeToLive);
        Assert.Equal(0xc0, packet.TypeOfService);
        Assert.Equal(7, packet.InterfaceIndex);
        Assert.Equal(datagram[24..], packet.Payload.ToArray());

        Assert.False(VrrpSocket.TryParse(datagram[..19], 7, "eth0", out _));
        Assert.False(VrrpSocket.TryParse([0x4f, .. datagram[1..]], 7, "eth0", out _)); // IHL past the end
        Assert.False(VrrpSocket.TryParse([0x65, .. datagram[1..]], 7, "eth0", out _)); // not IPv4
    }

    private const int CapNetRaw = 13;
    private const uint LinuxCapabilityVersion3 = 0x20080522;

    private static unsafe void DropEffectiveCapability(int capability)
    {
        var header = new CapHeader { Version = LinuxCapabilityVersion3, Pid = 0 };
        var data = stackalloc CapData[2];
        if (capget(&header, data) != 0 || (data[0].Effective & (1u << capability)) == 0)
        {
            throw new InvalidOperationException("the test needs to run as root, holding CAP_NET_RAW to drop it");
        }
        data[0].Effective &= ~(1u << capability);
        if (capset(&header, data) != 0)
        {
            throw new InvalidOperationException($"capset failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader { public uint Version; public int Pid; }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData { public uint Effective; public uint Permitted; public uint Inheritable; }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int capget(CapHeader* header, CapData* data);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int capset(CapHeader* header, CapData* data);
}
