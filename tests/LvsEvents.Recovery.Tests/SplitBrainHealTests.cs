using LvsEvents.Contracts;
using LvsEvents.Recovery.Policy;

namespace LvsEvents.Recovery.Tests;

/// <summary>A resignation forced by an unreachable gateway is restored once the gateway answers again, and only then.</summary>
public sealed class SplitBrainHealTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static SplitBrainSuspected Suspected() => new()
    {
        EventId = Guid.NewGuid(), OccurredAt = T0, NodeId = "lvs-a", Service = "vrrp",
        Instance = "VI_1", VirtualRouterId = 51, PeerAddress = "10.0.0.2", PeerPriority = 100, LocalPriority = 150, IntervalsObserved = 4,
    };

    private static SplitBrainPolicy Policy() => new(new RecoveryOptions { SplitBrain = { Gateway = "10.0.0.254" } }, "lvs-a");

    [Fact]
    public void A_node_cut_off_from_its_gateway_is_restored_when_the_gateway_answers_again()
    {
        var policy = Policy();
        var suspicion = Suspected();
        var resign = policy.Handle(suspicion, new Reachability(Gateway: false, Peer: null), T0);
        Assert.Equal(VrrpResignMode.PriorityDrop, Assert.IsType<VrrpResignCommand>(resign[1]).Mode);
        Assert.True(policy.AwaitingHeal);

        Assert.Empty(policy.CheckHealed(new Reachability(false, null), T0.AddSeconds(2)));
        Assert.Empty(policy.CheckHealed(new Reachability(null, null), T0.AddSeconds(3)));
        var restore = policy.CheckHealed(new Reachability(true, null), T0.AddSeconds(4));

        var decision = Assert.IsType<RecoveryDecision>(restore[0]);
        Assert.Equal(RecoveryAction.Released, decision.Action);
        Assert.Contains("10.0.0.254 answers again", decision.Reason);
        var command = Assert.IsType<VrrpResignCommand>(restore[1]);
        Assert.True(command.Restore);
        Assert.Equal((suspicion.EventId, decision.EventId), (command.CorrelationId, command.CausationId!.Value));
        Assert.False(policy.AwaitingHeal);
        Assert.Empty(policy.CheckHealed(new Reachability(true, null), T0.AddSeconds(5)));
    }

    [Fact]
    public void A_resignation_for_another_reason_does_not_wait_for_the_gateway()
    {
        var policy = new SplitBrainPolicy(new RecoveryOptions { SplitBrain = { PreferredMaster = "lvs-b" } }, "lvs-a");
        var tie = Suspected() with { LocalPriority = 100 };
        Assert.Equal(2, policy.Handle(tie, new Reachability(null, null), T0).Count);
        Assert.False(policy.AwaitingHeal);
        Assert.Empty(policy.CheckHealed(new Reachability(true, null), T0.AddSeconds(1)));
        Assert.True(policy.HasResigned("VI_1"));
    }
}
