using LvsEvents.Contracts;
using Tmds.Linux;

namespace LvsEvents.Vrrp.Tests;

/// <summary>Our own nodes only: two, and three with a partition of the LAN and its healing.</summary>
public sealed class OwnClusterTests : IAsyncLifetime
{
    private readonly VrrpLab _lab = new();
    private BusTap _bus = null!;

    public async Task InitializeAsync() => _bus = await BusTap.StartAsync();

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        await _bus.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Two_nodes_fail_over_on_kill_9_and_the_returning_higher_priority_preempts()
    {
        var a = _lab.AddNode("a", 1);
        var b = _lab.AddNode("b", 2);
        var first = await _lab.StartOursAsync(a, _lab.Settings(a, 150, master: true));
        await VrrpLab.WaitForVipAsync(first, TimeSpan.FromSeconds(10), "a starts as master");
        var second = await _lab.StartOursAsync(b, _lab.Settings(b, 100));
        await _bus.WaitForAsync<VrrpStateChanged>(second.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "b backup");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(4), [first], [second]);

        first.Signal(LibC.SIGKILL);
        var took = await VrrpLab.WaitForVipAsync(second, TimeSpan.FromSeconds(3 + 156 / 256.0 + 1.5), "kill -9 of a");
        Assert.True(took > TimeSpan.FromSeconds(2.5), $"b took over after {took}");
        // keepalived's ARP timing: garp_master_repeat (5) at once, as many again garp_master_delay (1 s here) later.
        var now = await _bus.WaitForAsync<GratuitousArpSent>(second.NodeId, e => e.Reason == "became master", TimeSpan.FromSeconds(5), "gratuitous ARPs");
        var later = await _bus.WaitForAsync<GratuitousArpSent>(second.NodeId, e => e.Reason.StartsWith("garp_master_delay 1 s", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5), "the delayed gratuitous ARPs");
        Assert.Equal(5, now.Count);
        Assert.Equal([_lab.Vip.ToString()], later.Addresses);
        Assert.InRange((later.OccurredAt - now.OccurredAt).TotalSeconds, 0.9, 2.0);

        var back = await _lab.StartOursAsync(a, _lab.Settings(a, 150) with { RouterId = _lab.NodeId("a2") });
        await _bus.WaitForAsync<VrrpStateChanged>(back.NodeId, e => e.To == VrrpState.Master && e.Reason == VrrpTransitionReason.Preempted,
            TimeSpan.FromSeconds(10), "a preempts b");
        var yielded = await _bus.WaitForAsync<VrrpStateChanged>(second.NodeId, e => e.From == VrrpState.Master && e.To == VrrpState.Backup,
            TimeSpan.FromSeconds(5), "b yields");
        Assert.Equal(VrrpTransitionReason.HigherPriorityAdvertSeen, yielded.Reason);
        Assert.Equal(a.Address.ToString(), yielded.Evidence!.LastAdvertFrom);
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(2), [back], [second]);
    }

    [Fact(Timeout = 90_000)]
    public async Task Three_nodes_partition_split_brain_and_healing_leave_exactly_one_master()
    {
        var a = _lab.AddNode("a", 1);
        var b = _lab.AddNode("b", 2);
        var c = _lab.AddNode("c", 3);
        var na = await _lab.StartOursAsync(a, _lab.Settings(a, 150, master: true));
        var nb = await _lab.StartOursAsync(b, _lab.Settings(b, 100));
        var nc = await _lab.StartOursAsync(c, _lab.Settings(c, 50));
        await VrrpLab.WaitForVipAsync(na, TimeSpan.FromSeconds(30), "a master (three processes starting at once)");
        await _bus.WaitForAsync<VrrpStateChanged>(nb.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "b backup");
        await _bus.WaitForAsync<VrrpStateChanged>(nc.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "c backup");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(4), [na], [nb, nc]);

        // Partition: the switch stops forwarding; every node's link stays up, so each one thinks the others died.
        NetworkLab.Run("ip", $"-n {_lab.Network.LanNamespace} link set br0 down");
        await VrrpLab.WaitForVipAsync(nb, TimeSpan.FromSeconds(6), "b alone becomes master");
        await VrrpLab.WaitForVipAsync(nc, TimeSpan.FromSeconds(6), "c alone becomes master");
        Assert.True(na.HoldsVip);

        // Partial healing: the switch is back, but b and c still drop a's adverts (a one-way fault). a hears b
        // and c claim mastership at lower priority, answers, and is not heard: split brain.
        foreach (var node in new[] { b, c })
            NetworkLab.Run("ip", $"netns exec {node.Namespace} nft add table ip lvt_drop ; add chain ip lvt_drop in {{ type filter hook input priority 0 ; }} ; add rule ip lvt_drop in ip saddr {a.Address} ip protocol vrrp drop");
        NetworkLab.Run("ip", $"-n {_lab.Network.LanNamespace} link set br0 up");
        var suspected = await _bus.WaitForAsync<SplitBrainSuspected>(na.NodeId, _ => true, TimeSpan.FromSeconds(15), "split brain suspected on a");
        Assert.Equal(b.Address.ToString(), suspected.PeerAddress);
        Assert.Equal(100, suspected.PeerPriority);
        Assert.Equal(150, suspected.LocalPriority);
        Assert.True(suspected.IntervalsObserved > 3);
        // c hears b (higher) and yields; b stays master, unaware of a.
        await VrrpLab.WaitForNoVipAsync(nc, TimeSpan.FromSeconds(3), "c yields to b");
        Assert.True(nb.HoldsVip);

        // Full healing: exactly one master (a) once b hears a again, well within a Master_Down_Interval.
        foreach (var node in new[] { b, c })
            NetworkLab.Run("ip", $"netns exec {node.Namespace} nft delete table ip lvt_drop");
        await VrrpLab.WaitForNoVipAsync(nb, TimeSpan.FromSeconds(3 + 156 / 256.0), "b yields to a once healed");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(4), [na], [nb, nc]);
        // keepalived #166: the surviving master re-announces the VIP once the other master is gone, and says so.
        var garp = await _bus.WaitForAsync<GratuitousArpSent>(na.NodeId, e => e.Reason.Contains("split brain", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "gratuitous ARPs after the split brain healed");
        Assert.Contains(_lab.Vip.ToString(), garp.Addresses);
    }
}
