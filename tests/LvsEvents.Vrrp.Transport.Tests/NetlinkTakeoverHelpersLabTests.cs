using System.Diagnostics;
using LvsEvents.Netlink;

namespace LvsEvents.Vrrp.Transport.Tests;

/// <summary>
/// The netlink pieces of a takeover and of its benchmark, on a lab node: VIPs added by a remembered interface index
/// (and again after the interface was recreated), a link taken down without a process, and the address
/// notifications a watcher reads instead of polling. <c>ip -n NS</c> is the independent witness.
/// </summary>
public sealed class NetlinkTakeoverHelpersLabTests : IDisposable
{
    private readonly NetworkLab _lab = new();
    private readonly LabNode _node;

    public NetlinkTakeoverHelpersLabTests() => _node = _lab.AddNode("a", 1);

    public void Dispose() => _lab.Dispose();

    [Fact]
    public void A_vip_is_added_by_its_remembered_index_and_again_after_the_interface_was_recreated()
    {
        NetworkLab.Run("ip", $"-n {_node.Namespace} link add d0 type veth peer name d1");
        NetworkLab.Run("ip", $"-n {_node.Namespace} link set d0 up");
        NetworkLab.Run("ip", $"-n {_node.Namespace} link set d1 up");
        using var addresses = _node.Run(IndexedInterfaceAddresses.Open);
        addresses.Prepare(["d0", "eth0", "missing0"]);
        var first = addresses.RememberedIndex("d0");
        Assert.NotNull(first);
        Assert.Null(addresses.RememberedIndex("missing0"));
        var vip = new LvsEvents.Netlink.VirtualAddress(_lab.Address(60), 32, "d0");

        // The warm-up's rehearsal goes to no interface and changes nothing.
        using (addresses.Rehearsal())
            Assert.False(addresses.Add(vip));
        Assert.DoesNotContain(vip.Address, NetworkLab.Addresses(_node.Namespace, "d0"));
        Assert.DoesNotContain(vip.Address, NetworkLab.Addresses(_node.Namespace, "eth0"));

        Assert.True(addresses.Add(vip));
        Assert.False(addresses.Add(vip));
        Assert.Contains(vip.Address, NetworkLab.Addresses(_node.Namespace, "d0"));
        Assert.True(addresses.Remove(vip));
        Assert.False(addresses.Remove(vip));
        Assert.DoesNotContain(vip.Address, NetworkLab.Addresses(_node.Namespace, "d0"));

        // The interface goes away (with its veth peer) and comes back with another index: the remembered one is stale (ENODEV).
        NetworkLab.Run("ip", $"-n {_node.Namespace} link del d0");
        NetworkLab.Run("ip", $"-n {_node.Namespace} link add d0 type veth peer name d1");
        NetworkLab.Run("ip", $"-n {_node.Namespace} link set d0 up");
        NetworkLab.Run("ip", $"-n {_node.Namespace} link set d1 up");
        Assert.True(addresses.Add(vip));
        Assert.Contains(vip.Address, NetworkLab.Addresses(_node.Namespace, "d0"));
        Assert.NotEqual(first, addresses.RememberedIndex("d0"));
        Assert.True(addresses.Remove(vip));

        // Prepared adds (encoded once, found by reference): the same, and the same fallback when d0 is recreated again.
        addresses.PrepareAdds([vip]);
        using (addresses.Rehearsal())
            Assert.False(addresses.Add(vip));
        Assert.DoesNotContain(vip.Address, NetworkLab.Addresses(_node.Namespace, "d0"));
        NetworkLab.Run("ip", $"-n {_node.Namespace} link del d0");
        NetworkLab.Run("ip", $"-n {_node.Namespace} link add d0 type veth peer name d1");
        NetworkLab.Run("ip", $"-n {_node.Namespace} link set d0 up");
        Assert.True(addresses.Add(vip));
        Assert.False(addresses.Add(vip));
        Assert.Contains(vip.Address, NetworkLab.Addresses(_node.Namespace, "d0"));

        // A rehearsal for an interface that does not exist is no error, and adds nothing.
        using (addresses.Rehearsal())
            Assert.False(addresses.Add(new LvsEvents.Netlink.VirtualAddress(_lab.Address(62), 32, "missing0")));
    }

    [Fact]
    public void A_link_taken_down_by_request_is_down_and_an_added_address_is_notified_as_it_happens()
    {
        using var notifications = _node.Run(AddressNotifications.Open);
        using var socket = _node.Run(NetlinkSocket.Open);
        using var addresses = _node.Run(IndexedInterfaceAddresses.Open);
        var vip = new LvsEvents.Netlink.VirtualAddress(_lab.Address(61), 32, "eth0");
        var eth0 = LinkStateRequests.IndexOf(socket, "eth0");

        var before = Stopwatch.GetTimestamp();
        Assert.True(addresses.Add(vip));
        var added = Assert.Single(ReadFor(notifications, TimeSpan.FromSeconds(2)), n => n.Added && n.Address.Address.Equals(vip.Address));
        Assert.Equal(eth0, added.InterfaceIndex);
        Assert.InRange(added.ReceivedTimestamp, before, Stopwatch.GetTimestamp());
        Assert.True(addresses.Remove(vip));
        Assert.Contains(ReadFor(notifications, TimeSpan.FromSeconds(2)), n => !n.Added && n.Address.Address.Equals(vip.Address));

        LinkStateRequests.SetUp(socket, eth0, up: false);
        Assert.Contains("state DOWN", NetworkLab.Run("ip", $"-n {_node.Namespace} link show dev eth0"));
        Assert.DoesNotContain(",UP", NetworkLab.Run("ip", $"-n {_node.Namespace} link show dev eth0"));
        LinkStateRequests.SetUp(socket, eth0, up: true);
        Assert.Contains(",UP", NetworkLab.Run("ip", $"-n {_node.Namespace} link show dev eth0"));
    }

    private static List<AddressNotification> ReadFor(AddressNotifications notifications, TimeSpan window)
    {
        var result = new List<AddressNotification>();
        var deadline = Stopwatch.GetTimestamp() + (long)(window.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && result.Count == 0)
            result.AddRange(notifications.Receive(TimeSpan.FromMilliseconds(100)));
        return result;
    }
}
