using System.Security.Cryptography;
using LvsEvents.Contracts;
using LvsEvents.TestInfrastructure;
using LvsEvents.Vrrp.Tests.Directors;
using Xunit.Abstractions;

namespace LvsEvents.Vrrp.Tests;

/// <summary>
/// Split brain end to end: two of our directors (lvs-vrrp each) and the real lvs-recovery of the first, on the real bus
/// and store. The first director is cut off (everything it sends is dropped, it still hears the LAN): the second takes
/// over, the first hears it and suspects a split brain, its recovery cannot reach the gateway and resigns it (priority
/// drop), it yields: one master. Healed, the gateway answers, the resignation is restored, the first preempts back: one
/// master. Every step is in the store, tied to the suspicion by correlation id.
/// </summary>
public sealed class SplitBrainRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly VrrpLab _lab = new();
    private readonly string _uplink = "lvd" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private BusTap _bus = null!;
    private RecordedStore _store = null!;
    private ServiceProcess? _recovery;

    public async Task InitializeAsync()
    {
        _bus = await BusTap.StartAsync();
        _store = await RecordedStore.StartAsync(_bus, e => e.NodeId.StartsWith(_lab.Network.Id, StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        if (_recovery is not null)
        {
            output.WriteLine(_recovery.OutputText);
            await _recovery.DisposeAsync();
        }

        await _lab.DisposeAsync();
        try
        {
            NetworkLab.Run("ip", $"link del {_uplink}");
        }
        catch (InvalidOperationException)
        {
            // Gone with a's namespace (a veth pair dies with either end).
        }
        await _store.DisposeAsync();
        await _bus.DisposeAsync();
    }

    [Fact(Timeout = 90_000)]
    public async Task A_director_cut_off_from_its_gateway_resigns_and_is_restored_when_healed_with_every_step_recorded()
    {
        var a = _lab.AddNode("a", 1);
        var b = _lab.AddNode("b", 2);
        // The gateway as the director sees it: a link of a's own that the cut takes down with everything else a sends.
        var gateway = $"10.214.{_lab.Network.Subnet}.2";
        NetworkLab.Run("ip", $"link add {_uplink} type veth peer name up0 netns {a.Namespace}");
        NetworkLab.Run("ip", $"addr add 10.214.{_lab.Network.Subnet}.1/30 dev {_uplink}");
        NetworkLab.Run("ip", $"link set {_uplink} up");
        NetworkLab.Run("ip", $"-n {a.Namespace} addr add {gateway}/30 dev up0");
        NetworkLab.Run("ip", $"-n {a.Namespace} link set up0 up");

        var fast = (VrrpPeerSettings s) => s with { Version = 3, AdvertInterval = 0.3 };
        var na = await _lab.StartOursAsync(a, fast(_lab.Settings(a, 150, master: true)), "--Vrrp:QueueExpiry=00:01:00");
        var nb = await _lab.StartOursAsync(b, fast(_lab.Settings(b, 100)), "--Vrrp:QueueExpiry=00:01:00");
        _recovery = ServiceProcess.Start("recovery", "lvs-recovery.dll", na.NodeId, await TestServers.RabbitMqAsync(),
            ["--config", na.ConfigPath, $"--Recovery:SplitBrain:Gateway={gateway}", "--Recovery:TickInterval=00:00:00.200", "--Recovery:QueueExpiry=00:01:00"]);
        await VrrpLab.WaitForVipAsync(na, TimeSpan.FromSeconds(15), "a starts as master");
        await _bus.WaitForAsync<VrrpStateChanged>(nb.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "b backup");
        await _bus.WaitForAsync<ServiceStarted>(na.NodeId, e => e.Service == "recovery", TimeSpan.FromSeconds(30), "recovery started");
        // The recovery's queue exists once it consumes; give the bus a moment after its start event.
        await Task.Delay(1000);

        // The cut: a's switch port drops what a sends (adverts, echo replies); a still hears b.
        NetworkLab.Run("ip", $"netns exec {a.Namespace} nft add table ip lvd_cut ; add chain ip lvd_cut out {{ type filter hook output priority 0 ; policy drop ; }}");
        var suspicion = await _bus.WaitForAsync<SplitBrainSuspected>(na.NodeId, _ => true, TimeSpan.FromSeconds(10), "split brain suspected on a");
        var yielded = await _bus.WaitForAsync<VrrpStateChanged>(na.NodeId, e => e.From == VrrpState.Master && e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "a yields");
        await VrrpLab.WaitForNoVipAsync(na, TimeSpan.FromSeconds(2), "a released the VIP");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(2), [nb], [na]);

        // Healed: the gateway answers again, recovery restores a's priority and a (150) preempts b.
        NetworkLab.Run("ip", $"netns exec {a.Namespace} nft delete table ip lvd_cut");
        var back = await _bus.WaitForAsync<VrrpStateChanged>(na.NodeId, e => e.To == VrrpState.Master && e.OccurredAt > yielded.OccurredAt, TimeSpan.FromSeconds(15), "a master again");
        await _bus.WaitForAsync<VrrpStateChanged>(nb.NodeId, e => e.From == VrrpState.Master && e.To == VrrpState.Backup, TimeSpan.FromSeconds(5), "b yields to a");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(2), [na], [nb]);

        // Every step in the store, linked: suspicion -> decision -> command -> priority change -> state change, and the restore.
        var stored = await _store.WaitForAsync(all => all.OfType<VrrpPriorityChanged>().Count(p => p.NodeId == na.NodeId) >= 2, TimeSpan.FromSeconds(10));
        var suspicionStored = Assert.Single(stored.OfType<SplitBrainSuspected>(), e => e.EventId == suspicion.EventId);
        Assert.Equal(b.Address.ToString(), suspicionStored.PeerAddress);
        var decisions = stored.OfType<RecoveryDecision>().Where(d => d.CorrelationId == suspicion.EventId).OrderBy(d => d.OccurredAt).ToList();
        Assert.Equal([RecoveryAction.Yield, RecoveryAction.Released], decisions.Select(d => d.Action));
        Assert.Contains("gateway", decisions[0].Reason, StringComparison.Ordinal);
        Assert.Equal(suspicion.EventId, decisions[0].CausationId);
        var commands = stored.OfType<VrrpResignCommand>().Where(c => c.CorrelationId == suspicion.EventId).OrderBy(c => c.OccurredAt).ToList();
        Assert.Equal(2, commands.Count);
        Assert.Equal((na.NodeId, VrrpResignMode.PriorityDrop, false, decisions[0].EventId), (commands[0].TargetNode, commands[0].Mode, commands[0].Restore, commands[0].CausationId!.Value));
        Assert.Equal((true, decisions[1].EventId), (commands[1].Restore, commands[1].CausationId!.Value));
        var priorities = stored.OfType<VrrpPriorityChanged>().Where(p => p.NodeId == na.NodeId).OrderBy(p => p.OccurredAt).ToList();
        Assert.Equal([(150, 1, commands[0].EventId), (1, 150, commands[1].EventId)], priorities.Select(p => (p.OldPriority, p.NewPriority, p.CausationId!.Value)));
        Assert.All(priorities, p => Assert.Equal(suspicion.EventId, p.CorrelationId));
        var yieldedStored = Assert.Single(stored.OfType<VrrpStateChanged>(), e => e.EventId == yielded.EventId);
        Assert.Equal((suspicion.EventId, commands[0].EventId), (yieldedStored.CorrelationId, yieldedStored.CausationId!.Value));
        Assert.Equal(VrrpTransitionReason.HigherPriorityAdvertSeen, yieldedStored.Reason);
        Assert.Contains(stored.OfType<VipReleased>(), v => v.NodeId == na.NodeId && v.CorrelationId == suspicion.EventId);
        Assert.Equal(VrrpTransitionReason.Preempted, back.Reason);
        Assert.False(na.HasExited || nb.HasExited || _recovery.HasExited);

        // lvsctl postmortem shows who asked for what and why, tied by the suspicion's correlation id.
        Environment.SetEnvironmentVariable(TestServers.EventStoreVariable, await TestServers.EventStoreAsync());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var from = (suspicion.OccurredAt - TimeSpan.FromSeconds(30)).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        var exit = await Task.Run(() => LvsEvents.Lvsctl.Program.Run(["postmortem", "--from", from, "--schema", _store.Schema], stdout, stderr));
        var report = stdout.ToString();
        output.WriteLine(report);
        Assert.True(exit == 0, stderr.ToString());
        Assert.Contains("DECISIONS AND COMMANDS (4)", report, StringComparison.Ordinal);
        Assert.Contains($"{na.NodeId}/recovery decision by recovery split-brain: Yield vrrp:{na.NodeId}:VI_1 [Critical] — this node cannot reach its gateway", report, StringComparison.Ordinal);
        Assert.Contains($"{na.NodeId}/recovery command.vrrp-resign by recovery: resign VRRP VI_1 on {na.NodeId}: priority 1", report, StringComparison.Ordinal);
        Assert.Contains($"{na.NodeId}/recovery command.vrrp-resign by recovery: restore VRRP VI_1 on {na.NodeId}", report, StringComparison.Ordinal);
        Assert.Equal(4, report.Split('\n').Count(l => l.Contains($"[correlation {suspicion.EventId}]", StringComparison.Ordinal)));
    }
}
