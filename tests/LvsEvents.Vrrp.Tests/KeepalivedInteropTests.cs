using LvsEvents.Contracts;
using Tmds.Linux;

namespace LvsEvents.Vrrp.Tests;

/// <summary>lvs-vrrp against Debian's keepalived on a bridged namespace LAN, both directions.</summary>
public sealed class KeepalivedInteropTests : IAsyncLifetime
{
    // keepalived's Master_Down_Interval at priority 100 and 1 s: 3 × 1 + 156/256 s.
    private static readonly TimeSpan KeepalivedMasterDown = TimeSpan.FromSeconds(3 + 156 / 256.0);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1.5);

    private readonly VrrpLab _lab = new();
    private BusTap _bus = null!;
    private LabNode _a = null!;
    private LabNode _b = null!;

    public async Task InitializeAsync()
    {
        _bus = await BusTap.StartAsync();
        _a = _lab.AddNode("a", 1);
        _b = _lab.AddNode("b", 2);
    }

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        await _bus.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Our_master_keepalived_backup_kill_9_moves_the_vip_and_a_returning_higher_priority_node_preempts()
    {
        var ours = await _lab.StartOursAsync(_a, _lab.Settings(_a, 150));
        var keepalived = _lab.StartKeepalived(_b, _lab.Settings(_b, 100, master: true));

        // keepalived starts as MASTER; ours (higher priority) preempts it after its Master_Down_Interval.
        await VrrpLab.WaitForVipAsync(ours, TimeSpan.FromSeconds(10), "our higher priority preempts");
        await VrrpLab.WaitForNoVipAsync(keepalived, TimeSpan.FromSeconds(3), "keepalived yields to priority 150");
        var preempted = await _bus.WaitForAsync<VrrpStateChanged>(ours.NodeId, e => e.To == VrrpState.Master, TimeSpan.FromSeconds(10), "master transition");
        Assert.Equal(VrrpTransitionReason.Preempted, preempted.Reason);
        Assert.Equal(_b.Address.ToString(), preempted.Evidence!.LastAdvertFrom);
        Assert.Equal(100, preempted.Evidence.LastAdvertPriority);
        await _bus.WaitForAsync<VipAcquired>(ours.NodeId, e => e.Address == $"{_lab.Vip}/24" && e.CorrelationId == preempted.EventId,
            TimeSpan.FromSeconds(5), "VIP acquired, tied to the transition");

        // Crash: keepalived takes over after its Master_Down_Interval.
        ours.Signal(LibC.SIGKILL);
        var took = await VrrpLab.WaitForVipAsync(keepalived, KeepalivedMasterDown + Margin, "kill -9 of our master");
        Assert.True(took > KeepalivedMasterDown - TimeSpan.FromSeconds(1), $"keepalived took over after {took}: too soon for a silent master");

        // Ours comes back with its higher priority: it starts as backup, drops the VIP the killed run left, then preempts.
        var back = await _lab.StartOursAsync(_a, _lab.Settings(_a, 150) with { RouterId = _lab.NodeId("a2") });
        var cleaned = await _bus.WaitForAsync<VipReleased>(back.NodeId, e => e.Address == $"{_lab.Vip}/24", TimeSpan.FromSeconds(10),
            "the VIP the killed run left behind, released at startup as backup");
        Assert.Contains("left over", cleaned.Reason);
        await _bus.WaitForAsync<VrrpStateChanged>(back.NodeId, e => e.To == VrrpState.Master, TimeSpan.FromSeconds(10), "preemption by the returning node");
        await VrrpLab.WaitForVipAsync(back, TimeSpan.FromSeconds(2), "the returning higher priority preempts");
        await VrrpLab.WaitForNoVipAsync(keepalived, TimeSpan.FromSeconds(3), "keepalived yields again");
        Assert.Contains("Master received advert from " + _a.Address + " with higher priority 150", keepalived.OutputText);
    }

    [Fact(Timeout = 60_000)]
    public async Task Keepalived_master_our_backup_kill_9_moves_the_vip_to_us_with_the_evidence()
    {
        var keepalived = _lab.StartKeepalived(_a, _lab.Settings(_a, 150, master: true));
        await VrrpLab.WaitForVipAsync(keepalived, TimeSpan.FromSeconds(10), "keepalived starts as master");
        var ours = await _lab.StartOursAsync(_b, _lab.Settings(_b, 100));
        await _bus.WaitForAsync<VrrpStateChanged>(ours.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "backup at start");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(4.5), [keepalived], [ours]);

        keepalived.KillVrrpChild();
        var took = await VrrpLab.WaitForVipAsync(ours, KeepalivedMasterDown + Margin, "kill -9 of keepalived");
        Assert.True(took > TimeSpan.FromSeconds(2.5), $"took over after {took}: before the master could have been missed");
        var failover = await _bus.WaitForAsync<VrrpStateChanged>(ours.NodeId, e => e.To == VrrpState.Master, TimeSpan.FromSeconds(5), "failover event");
        Assert.Equal(VrrpTransitionReason.MasterDownTimerExpired, failover.Reason);
        Assert.Equal(_a.Address.ToString(), failover.Evidence!.LastAdvertFrom);
        Assert.Equal(150, failover.Evidence.LastAdvertPriority);
        Assert.InRange(failover.Evidence.MissedAdverts, 3, 4);
        Assert.Equal(KeepalivedMasterDown, failover.Evidence.MasterDownInterval);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_graceful_stop_sends_priority_0_and_the_peer_takes_over_within_skew_time_both_ways()
    {
        // Ours master (150), keepalived backup (100): SIGTERM to ours.
        var ours = await _lab.StartOursAsync(_a, _lab.Settings(_a, 150, master: true));
        await VrrpLab.WaitForVipAsync(ours, TimeSpan.FromSeconds(10), "ours starts as master");
        var keepalived = _lab.StartKeepalived(_b, _lab.Settings(_b, 100));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(keepalived.HoldsVip);
        ours.Signal(LibC.SIGTERM);
        // keepalived's Skew_Time at 100: 156/256 s ≈ 0.61 s after the priority 0 advert.
        var took = await VrrpLab.WaitForVipAsync(keepalived, TimeSpan.FromSeconds(1.6), "priority 0 from our graceful stop");
        Assert.True(took < TimeSpan.FromSeconds(1.6),
            $"keepalived took the VIP {took.TotalSeconds:0.000} s after our SIGTERM:\n--- ours\n{ours.OutputText}\n--- keepalived\n{keepalived.OutputText}");
        Assert.Equal(0, await ours.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(ours.HoldsVip, "our stopped node kept the VIP");
        Assert.Contains("Backup received priority 0 advertisement", keepalived.OutputText, StringComparison.Ordinal);

        // Now keepalived is master; ours returns as a lower-priority backup and keepalived stops gracefully.
        var backup = await _lab.StartOursAsync(_a, _lab.Settings(_a, 50) with { RouterId = _lab.NodeId("a2") });
        await _bus.WaitForAsync<VrrpStateChanged>(backup.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "backup at start");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        keepalived.Signal(LibC.SIGTERM);
        // Our Skew_Time at 50: 206/256 s ≈ 0.8 s.
        await VrrpLab.WaitForVipAsync(backup, TimeSpan.FromSeconds(1.8), "priority 0 from keepalived's graceful stop");
        var change = await _bus.WaitForAsync<VrrpStateChanged>(backup.NodeId, e => e.To == VrrpState.Master, TimeSpan.FromSeconds(5), "takeover event");
        Assert.Equal(VrrpTransitionReason.PriorityZeroReceived, change.Reason);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("auth")]
    [InlineData("vrid")]
    public async Task A_wrong_auth_pass_or_vrid_is_ignored_by_both(string wrong)
    {
        var keepalivedSettings = _lab.Settings(_a, 100, master: true);
        var oursSettings = _lab.Settings(_b, 150) with
        {
            Password = wrong == "auth" ? "other" : "s3cret",
            VirtualRouterId = wrong == "vrid" ? 52 : 51,
        };
        var keepalived = _lab.StartKeepalived(_a, keepalivedSettings);
        var ours = await _lab.StartOursAsync(_b, oursSettings);
        // Neither accepts the other's adverts: both end up master, and stay so.
        await VrrpLab.WaitForVipAsync(keepalived, TimeSpan.FromSeconds(10), "keepalived master");
        await VrrpLab.WaitForVipAsync(ours, TimeSpan.FromSeconds(10), "ours master alone");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(3), [keepalived, ours], []);
        // The counters (logged at debug every second here) count the other side's adverts by reason.
        var reason = wrong == "auth" ? "PasswordMismatch" : "VirtualRouterIdMismatch";
        var counted = await Poll.Until(() => ours.OutputText.Contains($"{reason}=", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        Assert.True(counted is not null, $"ours did not count {reason}:\n{ours.OutputText}");
        Assert.DoesNotContain(_bus.Of<VrrpStateChanged>(ours.NodeId), e => e.To == VrrpState.Backup && e.Reason != VrrpTransitionReason.Startup);
        var keepalivedSaw = wrong == "auth" ? "passw" : "VRID";
        Assert.Contains(keepalivedSaw, keepalived.OutputText, StringComparison.OrdinalIgnoreCase);
    }

    [Fact(Timeout = 60_000)]
    public async Task Vrrpv3_at_advert_int_0_1_fails_over_both_ways()
    {
        var v3 = (VrrpPeerSettings s) => s with { Version = 3, AdvertInterval = 0.1, Password = null };
        var keepalived = _lab.StartKeepalived(_a, v3(_lab.Settings(_a, 100, master: true)));
        await VrrpLab.WaitForVipAsync(keepalived, TimeSpan.FromSeconds(10), "keepalived v3 master");
        var ours = await _lab.StartOursAsync(_b, v3(_lab.Settings(_b, 150)));
        // Ours preempts after 3 × 0.1 + skew.
        await VrrpLab.WaitForVipAsync(ours, TimeSpan.FromSeconds(10), "ours preempts over v3");
        await VrrpLab.WaitForNoVipAsync(keepalived, TimeSpan.FromSeconds(1), "keepalived yields to v3 priority 150");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(1.5), [ours], [keepalived]);

        ours.Signal(LibC.SIGKILL);
        // keepalived: 3 × 0.1 + 156/256 × 0.1 ≈ 0.36 s.
        var took = await VrrpLab.WaitForVipAsync(keepalived, TimeSpan.FromSeconds(1.2), "kill -9 of our v3 master");
        Assert.True(took < TimeSpan.FromSeconds(1.2));

        var back = await _lab.StartOursAsync(_b, v3(_lab.Settings(_b, 90)) with { RouterId = _lab.NodeId("b2") });
        await _bus.WaitForAsync<VrrpStateChanged>(back.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "v3 backup");
        await Task.Delay(500);
        keepalived.KillVrrpChild();
        // Ours: 3 × 0.1 + 166/256 × 0.1 ≈ 0.37 s.
        await VrrpLab.WaitForVipAsync(back, TimeSpan.FromSeconds(1.2), "kill -9 of keepalived v3");
        var failover = await _bus.WaitForAsync<VrrpStateChanged>(back.NodeId, e => e.To == VrrpState.Master, TimeSpan.FromSeconds(5), "v3 failover event");
        Assert.Equal(VrrpTransitionReason.MasterDownTimerExpired, failover.Reason);
        Assert.Equal(TimeSpan.FromMilliseconds(300) + TimeSpan.FromTicks(166 * TimeSpan.FromMilliseconds(100).Ticks / 256), failover.Evidence!.MasterDownInterval);
    }

    [Fact(Timeout = 60_000)]
    public async Task Unicast_peers_interoperate()
    {
        var unicast = (VrrpPeerSettings s, LabNode self, LabNode peer) => s with { UnicastSource = self.Address, UnicastPeers = [peer.Address] };
        var keepalived = _lab.StartKeepalived(_a, unicast(_lab.Settings(_a, 150, master: true), _a, _b));
        await VrrpLab.WaitForVipAsync(keepalived, TimeSpan.FromSeconds(10), "keepalived unicast master");
        var ours = await _lab.StartOursAsync(_b, unicast(_lab.Settings(_b, 100), _b, _a));
        await _bus.WaitForAsync<VrrpStateChanged>(ours.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "unicast backup");
        // Ours hears keepalived's unicast adverts: it stays backup past its own Master_Down_Interval.
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(4.5), [keepalived], [ours]);

        keepalived.KillVrrpChild();
        await VrrpLab.WaitForVipAsync(ours, TimeSpan.FromSeconds(3 + 156 / 256.0) + Margin, "kill -9 of the unicast master");

        // And keepalived hears ours: a restarted keepalived at lower priority stays backup.
        var second = _lab.StartKeepalived(_a, unicast(_lab.Settings(_a, 50), _a, _b));
        await Poll.Until(() => second.OutputText.Contains("Entering BACKUP STATE", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(5), [ours], [second]);
    }
}
