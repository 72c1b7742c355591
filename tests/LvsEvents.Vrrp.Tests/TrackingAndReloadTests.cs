using LvsEvents.Contracts;
using Tmds.Linux;

namespace LvsEvents.Vrrp.Tests;

/// <summary>vrrp_script, track_interface, notify scripts, sync groups, and reloads that move only what changed.</summary>
public sealed class TrackingAndReloadTests : IAsyncLifetime
{
    private readonly VrrpLab _lab = new();
    private readonly string _files = Directory.CreateTempSubdirectory("lvt-vrrp-track-").FullName;
    private BusTap _bus = null!;

    public async Task InitializeAsync() => _bus = await BusTap.StartAsync();

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        await _bus.DisposeAsync();
        Directory.Delete(_files, recursive: true);
    }

    private string Instance(string name, int vrid, int priority, int host, string extra = "") => $$"""
        vrrp_instance {{name}} {
          state MASTER
          interface eth0
          virtual_router_id {{vrid}}
          priority {{priority}}
          advert_int 1
          virtual_ipaddress {
            {{_lab.Network.Address(host)}}/24 dev eth0
          }
        {{extra}}
        }
        """;

    private VrrpPeerSettings Raw(LabNode node, string body, string? id = null) => new()
    {
        RouterId = _lab.NodeId(id ?? node.Name), Vip = _lab.Vip, RawConfig = $"global_defs {{\n  NET_NAMESPACE\n}}\n{body}",
    };

    [Fact(Timeout = 60_000)]
    public async Task A_failing_script_faults_the_instance_runs_notify_scripts_and_recovers()
    {
        var a = _lab.AddNode("a", 1);
        var ok = Path.Combine(_files, "ok");
        var log = Path.Combine(_files, "notify.log");
        File.WriteAllText(ok, "");
        File.WriteAllText(Path.Combine(_files, "notify.sh"), $"#!/bin/sh\necho \"$@\" >> {log}\n");
        var config = $$"""
            vrrp_script chk {
              script "test -f {{ok}}"
              interval 0.5
              fall 2
              rise 1
            }
            {{Instance("VI_1", 51, 150, 100, $"  track_script {{\n    chk\n  }}\n  notify \"/bin/sh {_files}/notify.sh\"\n  notify_master \"touch {_files}/was-master\"")}}
            """;
        var node = await _lab.StartOursAsync(a, Raw(a, config));
        await VrrpLab.WaitForVipAsync(node, TimeSpan.FromSeconds(10), "master at start");
        await Poll.Until(() => File.Exists(log) && File.ReadAllText(log).Contains("INSTANCE VI_1 MASTER 150", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        Assert.Contains("INSTANCE VI_1 MASTER 150", File.ReadAllText(log));
        Assert.True(File.Exists(Path.Combine(_files, "was-master")), "notify_master did not run");

        File.Delete(ok);
        await VrrpLab.WaitForNoVipAsync(node, TimeSpan.FromSeconds(4), "the tracked script failed (fall 2 at 0.5 s)");
        var fault = await _bus.WaitForAsync<VrrpStateChanged>(node.NodeId, e => e.To == VrrpState.Fault, TimeSpan.FromSeconds(5), "fault");
        Assert.Equal(VrrpTransitionReason.ScriptFailed, fault.Reason);
        await _bus.WaitForAsync<VipReleased>(node.NodeId, e => e.Reason == nameof(VrrpTransitionReason.ScriptFailed), TimeSpan.FromSeconds(5), "VIP released for the script");
        await Poll.Until(() => File.ReadAllText(log).Contains("INSTANCE VI_1 FAULT", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        Assert.Contains("INSTANCE VI_1 FAULT", File.ReadAllText(log));

        File.WriteAllText(ok, "");
        var recovered = await _bus.WaitForAsync<VrrpStateChanged>(node.NodeId, e => e.From == VrrpState.Fault, TimeSpan.FromSeconds(5), "fault cleared");
        Assert.Equal(VrrpTransitionReason.ScriptRecovered, recovered.Reason);
        Assert.Equal(VrrpState.Backup, recovered.To);
        // Alone on the LAN: master again after a Master_Down_Interval.
        await VrrpLab.WaitForVipAsync(node, TimeSpan.FromSeconds(6), "master again after recovery");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_tracked_interface_going_down_faults_the_instance()
    {
        var a = _lab.AddNode("a", 1);
        // A veth pair inside the node: taking the far end down takes trk0's carrier away while trk0 stays
        // administratively up, as a pulled cable or a dead switch port would.
        NetworkLab.Run("ip", $"-n {a.Namespace} link add trk0 type veth peer name trk1");
        NetworkLab.Run("ip", $"-n {a.Namespace} link set trk0 up");
        NetworkLab.Run("ip", $"-n {a.Namespace} link set trk1 up");
        var node = await _lab.StartOursAsync(a, Raw(a, Instance("VI_1", 51, 150, 100, "  track_interface {\n    trk0\n  }")));
        await VrrpLab.WaitForVipAsync(node, TimeSpan.FromSeconds(10), "master at start");
        NetworkLab.Run("ip", $"-n {a.Namespace} link set trk1 down");
        await VrrpLab.WaitForNoVipAsync(node, TimeSpan.FromSeconds(2), "trk0 lost its carrier");
        var fault = await _bus.WaitForAsync<VrrpStateChanged>(node.NodeId, e => e.To == VrrpState.Fault, TimeSpan.FromSeconds(5), "fault");
        Assert.Equal(VrrpTransitionReason.InterfaceDown, fault.Reason);
        NetworkLab.Run("ip", $"-n {a.Namespace} link set trk1 up");
        var up = await _bus.WaitForAsync<VrrpStateChanged>(node.NodeId, e => e.From == VrrpState.Fault, TimeSpan.FromSeconds(5), "fault cleared");
        Assert.Equal(VrrpTransitionReason.InterfaceUp, up.Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_weighted_script_lowers_the_priority_and_the_peer_preempts()
    {
        var a = _lab.AddNode("a", 1);
        var b = _lab.AddNode("b", 2);
        var ok = Path.Combine(_files, "ok");
        File.WriteAllText(ok, "");
        var tracked = $$"""
            vrrp_script chk {
              script "test -f {{ok}}"
              interval 0.5
              weight -60
            }
            {{Instance("VI_1", 51, 150, 100, "  track_script {\n    chk\n  }")}}
            """;
        var na = await _lab.StartOursAsync(a, Raw(a, tracked));
        await VrrpLab.WaitForVipAsync(na, TimeSpan.FromSeconds(10), "a master");
        var nb = await _lab.StartOursAsync(b, Raw(b, Instance("VI_1", 51, 100, 100).Replace("state MASTER", "state BACKUP", StringComparison.Ordinal)));
        await _bus.WaitForAsync<VrrpStateChanged>(nb.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "b backup");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(4), [na], [nb]);

        File.Delete(ok);
        var lowered = await _bus.WaitForAsync<VrrpPriorityChanged>(na.NodeId, _ => true, TimeSpan.FromSeconds(5), "priority lowered");
        Assert.Equal(150, lowered.OldPriority);
        Assert.Equal(90, lowered.NewPriority);
        Assert.Contains("chk", lowered.Cause);
        await VrrpLab.WaitForVipAsync(nb, TimeSpan.FromSeconds(6), "b (100) preempts a (90)");
        var preempted = await _bus.WaitForAsync<VrrpStateChanged>(nb.NodeId, e => e.To == VrrpState.Master, TimeSpan.FromSeconds(5), "b master");
        Assert.Equal(VrrpTransitionReason.Preempted, preempted.Reason);
        Assert.Equal(90, preempted.Evidence!.LastAdvertPriority);
        await VrrpLab.WaitForNoVipAsync(na, TimeSpan.FromSeconds(3), "a yields to 100");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_sync_group_moves_its_instances_together()
    {
        var a = _lab.AddNode("a", 1);
        var b = _lab.AddNode("b", 2);
        var ok = Path.Combine(_files, "ok");
        File.WriteAllText(ok, "");
        string Config(int priority, bool withScript) => $$"""
            {{(withScript ? $"vrrp_script chk {{\n  script \"test -f {ok}\"\n  interval 0.5\n}}" : "")}}
            vrrp_sync_group G {
              group {
                VI_1
                VI_2
              }
            }
            {{Instance("VI_1", 51, priority, 100, withScript ? "  track_script {\n    chk\n  }" : "")}}
            {{Instance("VI_2", 52, priority, 101)}}
            """;
        var na = await _lab.StartOursAsync(a, Raw(a, Config(150, withScript: true)));
        var nb = await _lab.StartOursAsync(b, Raw(b, Config(100, withScript: false)));
        var vip1 = _lab.Network.Address(100);
        var vip2 = _lab.Network.Address(101);
        Assert.NotNull(await Poll.Until(() => a.Addresses().Contains(vip1) && a.Addresses().Contains(vip2) && !b.Addresses().Contains(vip1) && !b.Addresses().Contains(vip2),
            TimeSpan.FromSeconds(15)));

        // Only VI_1 tracks the script; its fault takes VI_2 along, so b gets both VIPs.
        File.Delete(ok);
        var moved = await Poll.Until(() => b.Addresses().Contains(vip1) && b.Addresses().Contains(vip2) && !a.Addresses().Contains(vip2), TimeSpan.FromSeconds(8));
        Assert.True(moved is not null, $"both VIPs did not move to b:\n{na.OutputText}");
        var followed = await _bus.WaitForAsync<VrrpStateChanged>(na.NodeId, e => e.Instance == "VI_2" && e.To == VrrpState.Fault, TimeSpan.FromSeconds(5), "VI_2 follows");
        Assert.Equal(VrrpTransitionReason.SyncGroupMemberChanged, followed.Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_reload_moves_only_the_instance_that_changed()
    {
        var a = _lab.AddNode("a", 1);
        var vip1 = _lab.Network.Address(100);
        var settings = Raw(a, Instance("VI_1", 51, 150, 100) + "\n" + Instance("VI_2", 52, 150, 101));
        var node = await _lab.StartOursAsync(a, settings);
        Assert.NotNull(await Poll.Until(() => a.Addresses().Contains(vip1) && a.Addresses().Contains(_lab.Network.Address(101)), TimeSpan.FromSeconds(10)));

        // VI_2 changes (priority and VIP); VI_1 is written elsewhere in the file but is the same instance.
        await File.WriteAllTextAsync(node.ConfigPath, (settings with
        {
            RawConfig = settings.RawConfig!.Replace(Instance("VI_2", 52, 150, 101), "", StringComparison.Ordinal)
                + "\n# moved around\n" + Instance("VI_2", 52, 140, 102),
        }).Render(a.Namespace));
        var lostVip1 = false;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                lostVip1 |= !a.Addresses().Contains(vip1);
                await Task.Delay(20);
            }
        });
        var reloadAt = DateTimeOffset.UtcNow;
        node.Signal(LibC.SIGHUP);
        await _bus.WaitForAsync<VipAcquired>(node.NodeId, e => e.Instance == "VI_2" && e.Address == $"{_lab.Network.Address(102)}/24", TimeSpan.FromSeconds(10), "VI_2's new VIP");
        var dropped = await _bus.WaitForAsync<VipReleased>(node.NodeId, e => e.Instance == "VI_2" && e.Address == $"{_lab.Network.Address(101)}/24", TimeSpan.FromSeconds(5), "VI_2's old VIP");
        Assert.Equal("removed from the configuration", dropped.Reason);
        var resumed = await _bus.WaitForAsync<VrrpStateChanged>(node.NodeId, e => e.Instance == "VI_2" && e.Reason == VrrpTransitionReason.ConfigurationChanged, TimeSpan.FromSeconds(5), "VI_2 carried on");
        Assert.Equal(VrrpState.Master, resumed.To);
        await Task.Delay(1500);
        await watching.CancelAsync();
        await watcher;
        Assert.False(lostVip1, "VI_1's VIP disappeared during the reload");
        Assert.DoesNotContain(_bus.Events, e => e.NodeId == node.NodeId && e.OccurredAt >= reloadAt
            && e is VrrpStateChanged { Instance: "VI_1" } or VipReleased { Instance: "VI_1" } or VipAcquired { Instance: "VI_1" });
        Assert.Contains(vip1, a.Addresses());
    }
}
