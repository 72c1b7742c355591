using LvsEvents.Contracts;
using LvsEvents.Vrrp.Tests.Directors;

namespace LvsEvents.Vrrp.Tests;

/// <summary>
/// lvs-vrrp and <c>command.vrrp-resign</c> on the real bus: a command for another node changes nothing; Stop leaves the
/// protocol (priority 0, VIPs released, the backup takes over at once) and stays out, a duplicate changes nothing;
/// Restore starts the instance over as configured. The resulting events carry the command's correlation id.
/// </summary>
public sealed class ResignCommandTests : IAsyncLifetime
{
    private readonly VrrpLab _lab = new();
    private BusTap _bus = null!;

    public async Task InitializeAsync() => _bus = await BusTap.StartAsync();

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        await _bus.DisposeAsync();
    }

    [Fact(Timeout = 90_000)]
    public async Task Stop_takes_the_instance_out_until_restore_and_commands_for_others_are_ignored()
    {
        var a = _lab.AddNode("a", 1);
        var b = _lab.AddNode("b", 2);
        var na = await _lab.StartOursAsync(a, _lab.Settings(a, 150, master: true) with { Version = 3, AdvertInterval = 0.3 }, "--Vrrp:QueueExpiry=00:01:00");
        var nb = await _lab.StartOursAsync(b, _lab.Settings(b, 100) with { Version = 3, AdvertInterval = 0.3 }, "--Vrrp:QueueExpiry=00:01:00");
        await VrrpLab.WaitForVipAsync(na, TimeSpan.FromSeconds(40), "a starts as master");
        await _bus.WaitForAsync<VrrpStateChanged>(nb.NodeId, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(40), "b backup");
        await _bus.WaitForAsync<ServiceStarted>(na.NodeId, _ => true, TimeSpan.FromSeconds(15), "a started");
        await Task.Delay(1000);

        VrrpResignCommand Command(string target, bool restore) => new()
        {
            EventId = Guid.CreateVersion7(), OccurredAt = DateTimeOffset.UtcNow, NodeId = "lvd-test", Service = "recovery", CorrelationId = Guid.CreateVersion7(),
            TargetNode = target, Instance = "VI_1", VirtualRouterId = 51, Mode = VrrpResignMode.Stop, Restore = restore, RequestedBy = "test", Reason = "resign test",
        };

        await CommandPublisher.PublishAsync(Command(_lab.NodeId("elsewhere"), restore: false));
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(2), [na], [nb]);

        var stop = Command(na.NodeId, restore: false);
        await CommandPublisher.PublishAsync(stop);
        var stopped = await _bus.WaitForAsync<VrrpStateChanged>(na.NodeId, e => e.To == VrrpState.Stopped, TimeSpan.FromSeconds(10), "a stops");
        Assert.Equal((stop.CorrelationId, stop.EventId), (stopped.CorrelationId, stopped.CausationId!.Value));
        Assert.Contains(_bus.Of<VipReleased>(na.NodeId), v => v.CorrelationId == stop.CorrelationId);
        // Priority 0: b takes over after Skew_Time, well before a Master_Down_Interval (~1.1 s).
        var takeover = await _bus.WaitForAsync<VrrpStateChanged>(nb.NodeId, e => e.To == VrrpState.Master, TimeSpan.FromSeconds(5), "b takes over");
        Assert.Equal(VrrpTransitionReason.PriorityZeroReceived, takeover.Reason);
        await CommandPublisher.PublishAsync(stop);
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(2), [nb], [na]);
        Assert.Single(_bus.Of<VrrpStateChanged>(na.NodeId), e => e.To == VrrpState.Stopped);

        var restore = Command(na.NodeId, restore: true);
        await CommandPublisher.PublishAsync(restore);
        var back = await _bus.WaitForAsync<VrrpStateChanged>(na.NodeId, e => e.From == VrrpState.Initialize && e.OccurredAt > stopped.OccurredAt, TimeSpan.FromSeconds(10), "a starts over");
        Assert.Equal(restore.CorrelationId, back.CorrelationId);
        await VrrpLab.WaitForVipAsync(na, TimeSpan.FromSeconds(5), "a (150, state MASTER) is master again");
        await VrrpLab.WaitForNoVipAsync(nb, TimeSpan.FromSeconds(3), "b yields to a");
        await VrrpLab.AssertHoldersAsync(TimeSpan.FromSeconds(1), [na], [nb]);
    }
}
