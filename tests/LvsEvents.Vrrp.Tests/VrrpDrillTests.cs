using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.TestInfrastructure;
using LvsEvents.Vrrp.Tests.Directors;
using Tmds.Linux;
using Xunit.Abstractions;

namespace LvsEvents.Vrrp.Tests;

/// <summary>
/// <c>lvsctl drill master-failure|partition</c> against a live pair of our directors (lvs-vrrp with Drills:Allowed, real bus,
/// real store): each passes on the healthy pair, and fails with its reason when the outcome is prevented (the backup's
/// lvs-vrrp frozen) or when the directors do not allow drills. Fast adverts (v3, 0.3 s) keep each run to seconds.
/// </summary>
public sealed class VrrpDrillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly VrrpLab _lab = new();
    private BusTap _bus = null!;
    private RecordedStore _store = null!;
    private OurVrrpNode? _frozen;

    public async Task InitializeAsync()
    {
        _bus = await BusTap.StartAsync();
        _store = await RecordedStore.StartAsync(_bus, e => e.NodeId.StartsWith(_lab.Network.Id, StringComparison.Ordinal) || e is DrillCommand);
    }

    public async Task DisposeAsync()
    {
        if (_frozen is not null)
            _frozen.Signal(LibC.SIGCONT);
        await _lab.DisposeAsync();
        await _store.DisposeAsync();
        await _bus.DisposeAsync();
    }

    [Fact(Timeout = 90_000)]
    public async Task Master_failure_drill_passes_on_a_healthy_pair_and_the_master_comes_back()
    {
        var (a, b) = await StartPairAsync(allowed: true);
        var (exit, report) = await DrillAsync("master-failure", "--instance", "VI_1", "--duration", "2s");
        Assert.True(exit == 0, report);
        Assert.Contains("drill master-failure VI_1: PASS", report, StringComparison.Ordinal);
        Assert.Contains($"{b.NodeId} became MASTER (MasterDownTimerExpired)", report, StringComparison.Ordinal);
        Assert.Contains($"{b.NodeId} holds {_lab.Vip}", report, StringComparison.Ordinal);
        Assert.Contains($"{a.NodeId} is the single MASTER of VI_1 (the master is back)", report, StringComparison.Ordinal);
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(1), [a], [b]);
    }

    [Fact(Timeout = 90_000)]
    public async Task Master_failure_drill_fails_with_its_reason_when_the_backup_cannot_take_over()
    {
        var (a, b) = await StartPairAsync(allowed: true);
        Freeze(b);
        var (exit, report) = await DrillAsync("master-failure", "--duration", "2s");
        Assert.Equal(1, exit);
        Assert.Contains("drill master-failure VI_1: FAIL", report, StringComparison.Ordinal);
        Assert.Matches(@"FAIL: no node became MASTER of VI_1 within [0-9.]+ s \(Master_Down_Interval [0-9.]+ s \+ tolerance 1 s\)", report);
        await VrrpLab.WaitForVipAsync(a, TimeSpan.FromSeconds(5), "a restarts after the drill");
    }

    [Fact(Timeout = 90_000)]
    public async Task Partition_drill_passes_with_split_brain_and_one_master_after()
    {
        var (a, b) = await StartPairAsync(allowed: true);
        // The real recovery of the master weighs the split brain it reports (the peer should yield: it has the lower priority).
        await using var recovery = ServiceProcess.Start("recovery", "lvs-recovery.dll", a.NodeId, await TestServers.RabbitMqAsync(),
            ["--config", a.ConfigPath, "--Recovery:TickInterval=00:00:00.200", "--Recovery:QueueExpiry=00:01:00"]);
        await _bus.WaitForAsync<ServiceStarted>(a.NodeId, e => e.Service == "recovery", TimeSpan.FromSeconds(30), "recovery started");
        await Task.Delay(1000);
        var (exit, report) = await DrillAsync("partition", "--instance", "VI_1", "--duration", "3s");
        Assert.True(exit == 0, report);
        Assert.Contains("drill partition VI_1: PASS", report, StringComparison.Ordinal);
        Assert.Contains($"{b.NodeId} became MASTER too (MasterDownTimerExpired): split brain", report, StringComparison.Ordinal);
        Assert.Contains($"{a.NodeId} suspected split brain with {b.Node.Address}", report, StringComparison.Ordinal);
        Assert.Contains($"recovery on {a.NodeId}: Stay: higher priority (150 > peer {b.Node.Address} 100): the peer should yield", report, StringComparison.Ordinal);
        Assert.Contains($"{a.NodeId} is the single MASTER of VI_1", report, StringComparison.Ordinal);
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(1), [a], [b]);
        Assert.False(recovery.HasExited, recovery.OutputText);
    }

    [Fact(Timeout = 90_000)]
    public async Task Partition_drill_fails_with_its_reason_when_the_backup_does_not_answer()
    {
        var (_, b) = await StartPairAsync(allowed: true);
        Freeze(b);
        var (exit, report) = await DrillAsync("partition", "--duration", "2s");
        Assert.Equal(1, exit);
        Assert.Contains("FAIL: no service answered the drill", report, StringComparison.Ordinal);
    }

    [Fact(Timeout = 90_000)]
    public async Task A_drill_is_refused_where_the_operator_does_not_allow_drills()
    {
        var (a, b) = await StartPairAsync(allowed: false);
        var clock = Stopwatch.StartNew();
        var (exit, report) = await DrillAsync("master-failure", "--duration", "10s");
        Assert.Equal(1, exit);
        Assert.Matches($@"FAIL: refused by ({a.NodeId}|{b.NodeId}) vrrp, ({a.NodeId}|{b.NodeId}) vrrp: drills are not allowed on this node \(lvs-vrrp Drills:Allowed is false\); nothing was changed", report);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"a refusal is reported at once, not after the drill's duration ({clock.Elapsed})");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(1), [a], [b]);
        Assert.DoesNotContain(_bus.Events, e => e is VipReleased && e.NodeId == a.NodeId);
    }

    private async Task<(OurVrrpNode A, OurVrrpNode B)> StartPairAsync(bool allowed)
    {
        var a = _lab.AddNode("a", 1);
        var b = _lab.AddNode("b", 2);
        string[] arguments = ["--Vrrp:QueueExpiry=00:01:00", $"--Drills:Allowed={allowed}"];
        var na = await _lab.StartOursAsync(a, _lab.Settings(a, 150, master: true) with { Version = 3, AdvertInterval = 0.3 }, arguments);
        var nb = await _lab.StartOursAsync(b, _lab.Settings(b, 100) with { Version = 3, AdvertInterval = 0.3 }, arguments);
        await VrrpLab.WaitForVipAsync(na, TimeSpan.FromSeconds(40), "a starts as master");
        await _bus.WaitForAsync<VrrpStateChanged>(nb.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(40), "b backup");
        // Both command queues exist once each service consumes; the started events come after the bus is up.
        await _bus.WaitForAsync<ServiceStarted>(na.NodeId, _ => true, TimeSpan.FromSeconds(15), "a started");
        await _bus.WaitForAsync<ServiceStarted>(nb.NodeId, _ => true, TimeSpan.FromSeconds(15), "b started");
        await _store.WaitForAsync(all => all.OfType<VrrpStateChanged>().Any(e => e.NodeId == nb.NodeId), TimeSpan.FromSeconds(10));
        await Task.Delay(1000);
        return (na, nb);
    }

    /// <summary>The backup's lvs-vrrp hangs (SIGSTOP): it neither takes over nor answers; thawed on dispose.</summary>
    private void Freeze(OurVrrpNode node)
    {
        node.Signal(LibC.SIGSTOP);
        _frozen = node;
    }

    private async Task<(int Exit, string Report)> DrillAsync(params string[] arguments)
    {
        // lvsctl reads the endpoints from the environment, as an operator's shell gives them.
        Environment.SetEnvironmentVariable(TestServers.EventStoreVariable, await TestServers.EventStoreAsync());
        Environment.SetEnvironmentVariable(TestServers.RabbitMqVariable, await TestServers.RabbitMqAsync());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await Task.Run(() => LvsEvents.Lvsctl.Program.Run(["drill", .. arguments, "--schema", _store.Schema, "--grace", "2s"], stdout, stderr));
        var report = stdout + stderr.ToString();
        output.WriteLine(report);
        return (exit, report);
    }
}
