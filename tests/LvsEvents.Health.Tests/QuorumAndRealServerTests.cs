using LvsEvents.Contracts;
using LvsEvents.Health.State;

namespace LvsEvents.Health.Tests;

public class QuorumAndRealServerTests
{
    [Fact]
    public void Quorum_is_gained_at_quorum_plus_hysteresis_and_lost_below_quorum_minus_hysteresis()
    {
        var quorum = new QuorumState(quorum: 4, hysteresis: 1, initialLiveWeight: 5);
        Assert.True(quorum.IsUp);
        Assert.Null(quorum.Update(3)); // 3 = 4 - 1: held
        Assert.False(quorum.Update(2));
        Assert.Null(quorum.Update(4)); // 4 < 4 + 1: not yet
        Assert.True(quorum.Update(5));
    }

    [Fact]
    public void Quorum_is_lost_when_no_weight_is_left_even_within_the_hysteresis()
    {
        var quorum = new QuorumState(quorum: 1, hysteresis: 2, initialLiveWeight: 3);
        Assert.False(quorum.Update(0));
        Assert.Null(quorum.Update(2));
        Assert.True(quorum.Update(3));
    }

    [Fact]
    public void Quorum_starts_down_when_the_initial_weight_is_short()
    {
        Assert.False(new QuorumState(2, 0, 1).IsUp);
        Assert.True(new QuorumState(2, 0, 2).IsUp);
    }

    [Fact]
    public void A_real_server_is_up_only_while_all_its_checkers_are()
    {
        var server = new RealServerHealth(3, inhibitOnFailure: false, [true, true]);
        Assert.Equal(HealthState.Down, server.Apply(0, false, null).StateChanged);
        Assert.Null(server.Apply(1, false, null).StateChanged);
        Assert.Null(server.Apply(0, true, null).StateChanged);
        Assert.Equal(HealthState.Up, server.Apply(1, true, null).StateChanged);
        Assert.Equal(3, server.LiveWeight);
    }

    [Fact]
    public void Without_inhibit_a_down_server_keeps_its_weight_but_adds_nothing_to_the_quorum()
    {
        var server = new RealServerHealth(3, inhibitOnFailure: false, [true]);
        var change = server.Apply(0, false, null);
        Assert.False(change.WeightChanged);
        Assert.Equal(0, server.LiveWeight);
    }

    [Fact]
    public void Inhibit_on_failure_sets_weight_zero_and_restores_it()
    {
        var server = new RealServerHealth(3, inhibitOnFailure: true, [true]);
        var down = server.Apply(0, false, null);
        Assert.Equal((3, 0), (down.OldWeight, down.NewWeight));
        var up = server.Apply(0, true, null);
        Assert.Equal((0, 3), (up.OldWeight, up.NewWeight));
    }

    [Fact]
    public void Misc_dynamic_weight_replaces_the_configured_one()
    {
        var server = new RealServerHealth(1, inhibitOnFailure: false, [true]);
        var change = server.Apply(0, null, 7);
        Assert.Equal((1, 7), (change.OldWeight, change.NewWeight));
        Assert.Equal(7, server.LiveWeight);
        Assert.False(server.Apply(0, null, 7).WeightChanged);
    }

    [Fact]
    public void A_server_without_checkers_is_up()
    {
        Assert.Equal(HealthState.Up, new RealServerHealth(2, false, []).State);
    }
}
