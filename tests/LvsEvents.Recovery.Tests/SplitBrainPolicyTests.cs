using LvsEvents.Contracts;
using LvsEvents.Recovery.Policy;

namespace LvsEvents.Recovery.Tests;

public sealed class SplitBrainPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static SplitBrainSuspected Suspected(int local, int peer, string node = "lvs-a", string peerAddress = "10.0.0.2") => new()
    {
        EventId = Guid.NewGuid(), OccurredAt = T0, NodeId = node, Service = "vrrp",
        Instance = "VI_1", VirtualRouterId = 51, PeerAddress = peerAddress, PeerPriority = peer, LocalPriority = local, IntervalsObserved = 3,
    };

    private static SplitBrainPolicy Policy(string? preferred = null, string? localAddress = null) =>
        new(new RecoveryOptions { SplitBrain = { PreferredMaster = preferred, LocalAddress = localAddress, YieldPriority = 5 } }, "lvs-a");

    private static readonly Reachability Unchecked = new(null, null);

    [Fact]
    public void The_lower_priority_node_yields_with_a_decision_and_a_resign_command()
    {
        var e = Suspected(local: 90, peer: 100);
        var output = Policy().Handle(e, Unchecked, T0);

        var decision = Assert.IsType<RecoveryDecision>(output[0]);
        Assert.Equal(RecoveryAction.Yield, decision.Action);
        Assert.Equal("vrrp:lvs-a:VI_1", decision.Subject);
        Assert.Equal([e.EventId], decision.CausingEvents);
        var command = Assert.IsType<VrrpResignCommand>(output[1]);
        Assert.Equal(("lvs-a", "VI_1", 51, VrrpResignMode.PriorityDrop, 5), (command.TargetNode, command.Instance, command.VirtualRouterId, command.Mode, command.Priority));
        Assert.Equal(e.EventId, command.CorrelationId);
        Assert.Equal(decision.EventId, command.CausationId);
        Assert.False(command.Restore);
    }

    [Fact]
    public void The_higher_priority_node_stays_and_issues_no_command()
    {
        var output = Policy().Handle(Suspected(local: 100, peer: 90), Unchecked, T0);
        var decision = Assert.IsType<RecoveryDecision>(Assert.Single(output));
        Assert.Equal(RecoveryAction.Stay, decision.Action);
    }

    [Fact]
    public void A_node_that_cannot_reach_its_gateway_yields_even_with_the_higher_priority()
    {
        var output = Policy().Handle(Suspected(local: 150, peer: 100), new Reachability(Gateway: false, Peer: null), T0);
        Assert.Equal(RecoveryAction.Yield, Assert.IsType<RecoveryDecision>(output[0]).Action);
        Assert.Contains("gateway", Assert.IsType<VrrpResignCommand>(output[1]).Reason);
    }

    [Theory]
    [InlineData("lvs-a", null, RecoveryAction.Stay)]
    [InlineData("lvs-b", null, RecoveryAction.Yield)]
    [InlineData(null, "10.0.0.1", RecoveryAction.Yield)]
    [InlineData(null, "10.0.0.3", RecoveryAction.Stay)]
    [InlineData(null, null, RecoveryAction.Stay)]
    public void A_tie_is_broken_by_the_preferred_master_then_by_address(string? preferred, string? localAddress, RecoveryAction expected)
    {
        var output = Policy(preferred, localAddress).Handle(Suspected(local: 100, peer: 100), Unchecked, T0);
        Assert.Equal(expected, Assert.IsType<RecoveryDecision>(output[0]).Action);
        Assert.Equal(expected == RecoveryAction.Yield ? 2 : 1, output.Count);
    }

    [Fact]
    public void Repeated_suspicions_resign_once_and_the_heal_restores_once()
    {
        var policy = Policy();
        var first = Suspected(local: 90, peer: 100);
        Assert.Equal(2, policy.Handle(first, Unchecked, T0).Count);
        Assert.Empty(policy.Handle(first, Unchecked, T0));
        Assert.Empty(policy.Handle(Suspected(local: 90, peer: 100), Unchecked, T0.AddSeconds(3)));
        Assert.True(policy.HasResigned("VI_1"));

        var healed = Suspected(local: 90, peer: 100);
        var restore = policy.Healed("VI_1", 51, healed, T0.AddMinutes(1));
        var command = Assert.IsType<VrrpResignCommand>(restore[1]);
        Assert.True(command.Restore);
        Assert.Equal(first.EventId, command.CorrelationId);
        Assert.Empty(policy.Healed("VI_1", 51, healed, T0.AddMinutes(2)));
        Assert.False(policy.HasResigned("VI_1"));
    }

    [Fact]
    public void Another_nodes_suspicion_is_left_to_that_node()
    {
        Assert.Empty(Policy().Handle(Suspected(local: 90, peer: 100, node: "lvs-b"), Unchecked, T0));
    }
}
