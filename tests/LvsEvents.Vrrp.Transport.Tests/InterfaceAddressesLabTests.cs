using System.Net;
using LvsEvents.Netlink;

namespace LvsEvents.Vrrp.Transport.Tests;

/// <summary>
/// VIPs through rtnetlink on a lab node: the netlink socket is opened inside the node's namespace, and
/// <c>ip -n NS addr</c> is the independent witness of what the kernel holds. The host namespace is never touched.
/// </summary>
public sealed class InterfaceAddressesLabTests : IDisposable
{
    private readonly NetworkLab _lab = new();
    private readonly LabNode _node;
    private readonly InterfaceAddresses _addresses;

    public InterfaceAddressesLabTests()
    {
        _node = _lab.AddNode("a", 1);
        _addresses = _node.Run(InterfaceAddresses.Open);
    }

    public void Dispose()
    {
        _addresses.Dispose();
        _lab.Dispose();
    }

    private string IpAddrLines() => NetworkLab.Run("ip", $"-n {_node.Namespace} -o addr show dev eth0");

    private string? LineOf(IPAddress address, int prefix)
        => IpAddrLines().Split('\n').SingleOrDefault(l => l.Contains($" inet {address}/{prefix} "));

    [Fact(Timeout = 10_000)]
    public async Task A_24_vip_with_label_and_broadcast_is_added_once_and_removed_once()
    {
        var vip = new VirtualAddress(_lab.Address(50), 24, "eth0", "eth0:1", _lab.Address(255));

        Assert.True(await _addresses.AddAsync(vip));
        var line = LineOf(vip.Address, 24);
        Assert.NotNull(line);
        Assert.Contains($"brd {_lab.Address(255)} ", line);
        Assert.Contains("scope global", line);
        Assert.EndsWith("eth0:1", line.Split('\\')[0].TrimEnd());

        // Already there: nothing changes and it is not an error.
        Assert.False(await _addresses.AddAsync(vip));
        Assert.Single(IpAddrLines().Split('\n'), l => l.Contains($" inet {vip.Address}/24 "));

        var listed = Assert.Single(await _addresses.ListAsync("eth0"), a => a.Address.Equals(vip.Address));
        Assert.Equal(vip, listed);

        Assert.True(await _addresses.RemoveAsync(vip));
        Assert.Null(LineOf(vip.Address, 24));
        // The node's own address is untouched by the VIP's removal.
        Assert.NotNull(LineOf(_node.Address, 24));

        Assert.False(await _addresses.RemoveAsync(vip));
        Assert.Null(LineOf(vip.Address, 24));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_32_vip_with_host_scope_is_added_with_that_scope()
    {
        var vip = new VirtualAddress(_lab.Address(60), 32, "eth0", Scope: AddressScope.Host);

        Assert.True(await _addresses.AddAsync(vip));

        var line = LineOf(vip.Address, 32);
        Assert.NotNull(line);
        Assert.Contains("scope host", line);
        Assert.DoesNotContain(" brd ", line);
        Assert.Equal(AddressScope.Host,
            Assert.Single(await _addresses.ListAsync("eth0"), a => a.Address.Equals(vip.Address)).Scope);
    }

    [Fact(Timeout = 10_000)]
    public async Task An_unknown_interface_is_a_clear_error_naming_it()
    {
        var vip = new VirtualAddress(IPAddress.Parse("10.0.0.5"), 24, "eth9");

        var add = await Assert.ThrowsAsync<NetlinkException>(() => _addresses.AddAsync(vip));
        Assert.Equal("adding 10.0.0.5/24 to eth9: no such device (ENODEV)", add.Message);

        var remove = await Assert.ThrowsAsync<NetlinkException>(() => _addresses.RemoveAsync(vip));
        Assert.Equal("removing 10.0.0.5/24 from eth9: no such device (ENODEV)", remove.Message);
    }

    [Fact(Timeout = 10_000)]
    public async Task The_socket_acts_in_the_namespace_it_was_opened_in_whatever_thread_calls_it()
    {
        // The test thread is in the host namespace; the VIP must still land on the node, and only there.
        var vip = new VirtualAddress(_lab.Address(70), 32, "eth0");
        Assert.True(await _addresses.AddAsync(vip));

        Assert.Contains(vip.Address, _node.Addresses());
        Assert.DoesNotContain($" {vip.Address}/", NetworkLab.Run("ip", "-o addr show"));
    }
}

/// <summary>The wire format, byte for byte, as the kernel parses it (include/uapi/linux/if_addr.h, rtnetlink.h).</summary>
public sealed class AddressMessageTests
{
    [Fact]
    public void Newaddr_is_header_ifaddrmsg_then_4_byte_aligned_attributes()
    {
        var vip = new VirtualAddress(IPAddress.Parse("10.0.0.5"), 24, "eth0", "eth0:1", IPAddress.Parse("10.0.0.255"),
            AddressScope.Host);

        var bytes = AddressMessage.Encode(AddressMessage.RtmNewAddr, 0x605, 7, vip, 3);

        byte[] expected =
        [
            60, 0, 0, 0, 20, 0, 0x05, 0x06, 7, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr: len 60, RTM_NEWADDR, flags, seq 7, pid 0
            2, 24, 0, 254, 3, 0, 0, 0,                               // ifaddrmsg: AF_INET, /24, flags, scope host, index 3
            8, 0, 2, 0, 10, 0, 0, 5,                                 // IFA_LOCAL
            8, 0, 1, 0, 10, 0, 0, 5,                                 // IFA_ADDRESS
            8, 0, 4, 0, 10, 0, 0, 255,                               // IFA_BROADCAST
            11, 0, 3, 0, (byte)'e', (byte)'t', (byte)'h', (byte)'0', (byte)':', (byte)'1', 0, 0, // IFA_LABEL + NUL + pad
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Decode_reads_back_what_encode_wrote()
    {
        var vip = new VirtualAddress(IPAddress.Parse("192.0.2.9"), 32, "eth1", "eth1:vip", null, AddressScope.Link);

        var decoded = AddressMessage.Decode(AddressMessage.Encode(AddressMessage.RtmNewAddr, 0, 1, vip, 42)
            .AsSpan(AddressMessage.HeaderLength), "eth1", out var index);

        Assert.Equal(42, index);
        Assert.Equal(vip, decoded);
    }

    [Fact]
    public void Errno_is_described_with_its_symbolic_name()
    {
        Assert.Equal("no such device (ENODEV)", NetlinkSocket.Describe(Tmds.Linux.LibC.ENODEV));
        Assert.Equal("file exists (EEXIST)", NetlinkSocket.Describe(Tmds.Linux.LibC.EEXIST));
        Assert.Equal("cannot assign requested address (EADDRNOTAVAIL)", NetlinkSocket.Describe(Tmds.Linux.LibC.EADDRNOTAVAIL));
    }
}
