using LvsEvents.Contracts;
using static LvsEvents.Vrrp.Protocol.Tests.Lab;

namespace LvsEvents.Vrrp.Protocol.Tests;

public class SplitBrainTests
{
    /// <summary>We are master from t=0 (owner of nothing, just `state MASTER`), priority 100.</summary>
    private static VrrpInstanceStateMachine Master(int splitBrainIntervals = 3)
    {
        var m = new VrrpInstanceStateMachine(Options(100) with { InitialState = VrrpState.Master, SplitBrainIntervals = splitBrainIntervals });
        m.Start(T0);
        return m;
    }

    [Fact]
    public void Another_lower_master_that_keeps_advertising_is_suspected_once_per_episode()
    {
        var m = Master();
        var suspicions = new List<SplitBrainSuspicion>();
        for (var i = 0; i < 10; i++)
        {
            m.OnTimer(At(i));
            var d = m.Hear(Peer(20), 90, At(i + 0.5));
            Assert.Equal(VrrpState.Master, m.State);
            Assert.Equal(100, d.OfType<SendAdvertisement>().Single().Priority); // keepalived answers to force the election
            suspicions.AddRange(d.OfType<SplitBrainSuspicion>());
            if (i == 2)
                Assert.Empty(suspicions); // three adverts are not "more than 3 intervals" yet
        }
        var suspicion = Assert.Single(suspicions);
        Assert.Equal(new SplitBrainSuspicion(Peer(20), 90, 100, 4), suspicion);
    }

    [Fact]
    public void Equal_priority_from_a_lower_address_counts_too()
    {
        var m = Master(splitBrainIntervals: 1);
        m.Hear(Peer(2), 100, At(0.5));
        Assert.Single(m.Hear(Peer(2), 100, At(1.5)).OfType<SplitBrainSuspicion>());
    }

    [Fact]
    public void When_the_other_master_goes_quiet_we_send_gratuitous_arps_again_and_say_it_ended()
    {
        var m = Master();
        for (var i = 0; i < 5; i++)
        {
            m.OnTimer(At(i));
            m.Hear(Peer(20), 90, At(i + 0.5));
        }
        // Last peer advert at 4.5; it is over once the peer has been silent for 3 of its intervals (after 7.5).
        Assert.DoesNotContain(m.OnTimer(At(5)).Actions, a => a is SendGratuitousArps);
        Assert.DoesNotContain(m.OnTimer(At(6)).Actions, a => a is SendGratuitousArps);
        Assert.DoesNotContain(m.OnTimer(At(7)).Actions, a => a is SendGratuitousArps);
        var healed = m.OnTimer(At(8));
        Assert.Equal([typeof(SendAdvertisement), typeof(SendGratuitousArps), typeof(SplitBrainEnded)], healed.Kinds());
        Assert.Equal(GratuitousArpReason.OtherMasterGone, ((SendGratuitousArps)healed.Actions[1]).Reason);
        Assert.Equal(new SplitBrainEnded(Peer(20), 5, StillMaster: true), healed.Actions[2]);
        Assert.Equal(VrrpState.Master, m.State);

        // Once over, nothing repeats; a new episode is a new suspicion.
        Assert.Equal([typeof(SendAdvertisement)], m.OnTimer(At(9)).Kinds());
        var again = Enumerable.Range(0, 4).SelectMany(i => m.Hear(Peer(20), 90, At(20 + i)).OfType<SplitBrainSuspicion>()).ToList();
        Assert.Single(again);
    }

    [Fact]
    public void A_short_lived_other_master_still_gets_its_arp_overridden_but_is_no_split_brain()
    {
        var m = Master();
        m.Hear(Peer(20), 90, At(0.5)); // e.g. a restarted `state MASTER` node that yields at once
        m.OnTimer(At(1));
        m.OnTimer(At(2));
        m.OnTimer(At(3));
        var after = m.OnTimer(At(4));
        Assert.Equal([typeof(SendAdvertisement), typeof(SendGratuitousArps)], after.Kinds());
    }

    [Fact]
    public void A_suspected_peer_sending_priority_zero_ends_the_episode_at_once()
    {
        var m = Master(splitBrainIntervals: 1);
        m.Hear(Peer(20), 90, At(0.5));
        m.Hear(Peer(20), 90, At(1.5));
        var d = m.Hear(Peer(20), 0, At(2));
        Assert.Equal([typeof(SendAdvertisement), typeof(SendGratuitousArps), typeof(SplitBrainEnded)], d.Kinds());
        Assert.True(((SplitBrainEnded)d.Actions[2]).StillMaster);
    }

    [Fact]
    public void If_we_are_the_one_to_yield_the_episode_ends_without_arps()
    {
        var m = Master(splitBrainIntervals: 1);
        m.Hear(Peer(20), 90, At(0.5));
        m.Hear(Peer(20), 90, At(1.5));
        var d = m.Hear(Peer(21), 150, At(2));
        Assert.Equal([typeof(SplitBrainEnded), typeof(ReleaseVirtualAddresses), typeof(StateTransition)], d.Kinds());
        Assert.False(((SplitBrainEnded)d.Actions[0]).StillMaster);
    }

    [Fact]
    public void Two_partitioned_masters_heal_to_exactly_one()
    {
        // Both became master during a partition; when it heals each hears the other.
        var a = Started(Options(100, us: Peer(5)));
        var b = Started(Options(100, us: Peer(6)));
        var mdi = a.MasterDownInterval;
        a.OnTimer(T0 + mdi);
        b.OnTimer(T0 + mdi);
        Assert.Equal((VrrpState.Master, VrrpState.Master), (a.State, b.State));
        // Healed: each delivers its next advert to the other. .6 has the higher address and stays.
        var toB = b.Hear(Peer(5), 100, At(5));
        var toA = a.Hear(Peer(6), 100, At(5));
        Assert.Equal(VrrpState.Master, b.State);
        Assert.Equal(VrrpState.Backup, a.State);
        Assert.IsType<SendAdvertisement>(Assert.Single(toB.Actions));
        Assert.Equal(VrrpTransitionReason.HigherPriorityAdvertSeen, toA.Transition().Reason);
        // The survivor re-announces the VIPs once the loser has been quiet long enough.
        for (var t = 6; t < 9; t++)
            Assert.DoesNotContain(b.OnTimer(At(t)).Actions, x => x is SendGratuitousArps);
        Assert.Contains(b.OnTimer(At(9)).Actions, x => x is SendGratuitousArps { Reason: GratuitousArpReason.OtherMasterGone });
    }
}
