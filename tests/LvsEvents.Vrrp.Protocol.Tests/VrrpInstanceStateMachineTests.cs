using System.Net;
using LvsEvents.Contracts;
using static LvsEvents.Vrrp.Protocol.Tests.Lab;

namespace LvsEvents.Vrrp.Protocol.Tests;

public class VrrpInstanceStateMachineTests
{
    private static readonly TimeSpan Mdi100 = TimeSpan.FromTicks(36_093_750); // v2, priority 100, 1 s
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Fact]
    public void Starts_in_backup_and_becomes_master_after_exactly_master_down_interval()
    {
        var m = new VrrpInstanceStateMachine(Options(100));
        var start = m.Start(T0);
        Assert.Equal(VrrpState.Backup, m.State);
        Assert.Equal((VrrpState.Initialize, VrrpState.Backup, VrrpTransitionReason.Startup), (start.Transition().From, start.Transition().To, start.Transition().Reason));
        Assert.Equal(T0 + Mdi100, m.NextDeadline);

        Assert.True(m.OnTimer(T0 + Mdi100 - Tick).IsEmpty);
        Assert.Equal(VrrpState.Backup, m.State);

        var up = m.OnTimer(T0 + Mdi100);
        up.AssertBecameMaster(VrrpTransitionReason.MasterDownTimerExpired);
        Assert.Equal(100, Assert.Single(up.OfType<SendAdvertisement>()).Priority);
        var evidence = up.Transition().Evidence;
        Assert.Equal(3, evidence.MissedAdverts);
        Assert.Equal(Mdi100, evidence.MasterDownInterval);
        Assert.Null(evidence.LastAdvertFrom);
        Assert.Equal(T0 + Mdi100 + TimeSpan.FromSeconds(1), m.NextDeadline);
    }

    [Fact]
    public void Master_advertises_every_interval()
    {
        var m = Started(Options(255));
        Assert.Equal(VrrpState.Master, m.State);
        for (var i = 1; i <= 5; i++)
        {
            Assert.True(m.OnTimer(At(i) - Tick).IsEmpty);
            var tick = m.OnTimer(At(i));
            Assert.Equal(255, Assert.IsType<SendAdvertisement>(Assert.Single(tick.Actions)).Priority);
            Assert.Equal(At(i + 1), m.NextDeadline);
        }
    }

    [Fact]
    public void An_advert_timed_before_the_backup_started_does_not_bring_its_takeover_forward()
    {
        // Adverts are timed by the kernel's receive timestamp; one queued in the socket while the instance was still
        // starting arrives "before" the start. It must not put the deadline earlier than a full interval after it.
        var m = Started(Options(100), At(5));
        Assert.True(m.Hear(Peer(20), 200, At(4.5)).IsEmpty);
        Assert.Equal(At(5) + Mdi100, m.NextDeadline);
        Assert.True(m.OnTimer(At(4.5) + Mdi100).IsEmpty);
        Assert.Equal(VrrpState.Backup, m.State);
        // An advert after the start is timed as it came, as before.
        Assert.True(m.Hear(Peer(20), 200, At(5.25)).IsEmpty);
        Assert.Equal(At(5.25) + Mdi100, m.NextDeadline);
        // The same holds for a priority-0 advert: Skew_Time from the start at the earliest.
        var n = Started(Options(100), At(5));
        Assert.True(n.Hear(Peer(20), 0, At(4)).IsEmpty);
        Assert.Equal(At(5) + n.SkewTime, n.NextDeadline);
    }

    [Fact]
    public void Backup_hearing_its_master_stays_and_takes_over_master_down_interval_after_the_last_advert()
    {
        var m = Started(Options(100));
        for (var i = 1; i <= 10; i++)
        {
            Assert.True(m.OnTimer(At(i)).IsEmpty);
            Assert.True(m.Hear(Peer(20), 200, At(i)).IsEmpty);
            Assert.Equal(At(i) + Mdi100, m.NextDeadline);
        }
        Assert.True(m.OnTimer(At(10) + Mdi100 - Tick).IsEmpty);
        var up = m.OnTimer(At(10) + Mdi100);
        up.AssertBecameMaster(VrrpTransitionReason.MasterDownTimerExpired);
        var evidence = up.Transition().Evidence;
        Assert.Equal("10.0.0.20", evidence.LastAdvertFrom);
        Assert.Equal(200, evidence.LastAdvertPriority);
        Assert.Equal(At(10), evidence.LastAdvertAt);
        Assert.Equal(3, evidence.MissedAdverts);
    }

    [Fact]
    public void Backup_with_higher_priority_preempts_a_lower_master_when_its_timer_runs_out()
    {
        var m = Started(Options(150));
        var mdi150 = m.MasterDownInterval;
        Assert.Equal(TimeSpan.FromTicks(30_000_000 + 106 * 10_000_000L / 256), mdi150);
        // The lower master's adverts are discarded, so they never push the deadline back.
        for (var t = 0.5; t < mdi150.TotalSeconds; t += 1)
        {
            Assert.True(m.Hear(Peer(20), 100, At(t)).IsEmpty);
            Assert.Equal(T0 + mdi150, m.NextDeadline);
        }
        var up = m.OnTimer(T0 + mdi150);
        up.AssertBecameMaster(VrrpTransitionReason.Preempted);
        Assert.Equal(100, up.Transition().Evidence.LastAdvertPriority);

        // The old master keeps talking for a moment: we answer (keepalived "forcing new election") and stay.
        var answer = m.Hear(Peer(20), 100, T0 + mdi150 + TimeSpan.FromMilliseconds(300));
        Assert.Equal(150, Assert.IsType<SendAdvertisement>(Assert.Single(answer.Actions)).Priority);
        Assert.Equal(VrrpState.Master, m.State);
    }

    [Fact]
    public void Master_yields_to_a_higher_priority_advert()
    {
        var m = Started(Options(100));
        m.OnTimer(T0 + Mdi100);
        var down = m.Hear(Peer(20), 150, At(5));
        Assert.Equal([typeof(ReleaseVirtualAddresses), typeof(StateTransition)], down.Kinds());
        var t = down.Transition();
        Assert.Equal((VrrpState.Master, VrrpState.Backup, VrrpTransitionReason.HigherPriorityAdvertSeen), (t.From, t.To, t.Reason));
        Assert.Equal("10.0.0.20", t.Evidence.LastAdvertFrom);
        Assert.Equal(150, t.Evidence.LastAdvertPriority);
        Assert.Equal(VrrpTransitionReason.HigherPriorityAdvertSeen, Assert.IsType<ReleaseVirtualAddresses>(down.Actions[0]).Reason);
        Assert.Equal(At(5) + Mdi100, m.NextDeadline);
    }

    [Fact]
    public void Nopreempt_backup_never_takes_over_from_a_live_lower_master()
    {
        var m = Started(Options(150) with { Nopreempt = true });
        for (var i = 0; i < 30; i++)
        {
            Assert.True(m.Hear(Peer(20), 100, At(i + 0.5)).IsEmpty);
            Assert.True(m.OnTimer(At(i + 1)).IsEmpty);
        }
        Assert.Equal(VrrpState.Backup, m.State);
        // …but takes over once that master is gone.
        m.OnTimer(At(29.5) + m.MasterDownInterval).AssertBecameMaster(VrrpTransitionReason.MasterDownTimerExpired);
    }

    [Fact]
    public void Preempt_delay_holds_preemption_for_that_long_after_the_first_lower_master_advert()
    {
        var m = Started(Options(150) with { PreemptDelay = TimeSpan.FromSeconds(5) });
        var mdi = m.MasterDownInterval;
        // Adverts at 0.5, 1.5, … 4.5 fall inside the delay (until 5.5) and are obeyed; from 5.5 on they are ignored.
        for (var t = 0.5; At(t) < m.NextDeadline; t += 1)
        {
            var deadlineBefore = m.NextDeadline;
            Assert.True(m.Hear(Peer(20), 100, At(t)).IsEmpty);
            Assert.Equal(t < 5.5 ? At(t) + mdi : deadlineBefore, m.NextDeadline);
        }
        Assert.Equal(At(4.5) + mdi, m.NextDeadline);
        Assert.True(m.OnTimer(At(4.5) + mdi - Tick).IsEmpty);
        m.OnTimer(At(4.5) + mdi).AssertBecameMaster(VrrpTransitionReason.Preempted);
    }

    [Fact]
    public void Preempt_delay_is_cancelled_by_a_master_at_least_as_good_and_restarts_on_the_next_lower_one()
    {
        var m = Started(Options(150) with { PreemptDelay = TimeSpan.FromSeconds(5) });
        m.Hear(Peer(20), 100, At(0.5));    // delay runs until 5.5
        m.Hear(Peer(21), 200, At(1.5));    // a better master: delay cancelled
        m.Hear(Peer(20), 100, At(4.0));    // lower again: a new delay until 9.0
        m.Hear(Peer(20), 100, At(8.5));    // still inside the new delay: obeyed
        Assert.Equal(At(8.5) + m.MasterDownInterval, m.NextDeadline);
        var deadline = m.NextDeadline;
        m.Hear(Peer(20), 100, At(9.5));    // after the delay: ignored
        Assert.Equal(deadline, m.NextDeadline);
    }

    [Fact]
    public void Priority_zero_makes_the_backup_take_over_after_skew_time()
    {
        var m = Started(Options(100));
        m.Hear(Peer(20), 200, At(1));
        m.Hear(Peer(20), 200, At(2));
        Assert.True(m.Hear(Peer(20), 0, At(2.5)).IsEmpty);
        var skew = TimeSpan.FromTicks(156 * 10_000_000L / 256); // 0.609375 s
        Assert.Equal(At(2.5) + skew, m.NextDeadline);
        Assert.True(m.OnTimer(At(2.5) + skew - Tick).IsEmpty);
        var up = m.OnTimer(At(2.5) + skew);
        up.AssertBecameMaster(VrrpTransitionReason.PriorityZeroReceived);
        Assert.Equal(0, up.Transition().Evidence.LastAdvertPriority);
        Assert.Equal(0, up.Transition().Evidence.MissedAdverts);
    }

    [Fact]
    public void After_priority_zero_the_higher_priority_backup_wins_the_race()
    {
        var high = Started(Options(200, us: Peer(11)));
        var low = Started(Options(50, us: Peer(12)));
        high.Hear(Peer(20), 250, At(1));
        low.Hear(Peer(20), 250, At(1));
        high.Hear(Peer(20), 0, At(1.5));
        low.Hear(Peer(20), 0, At(1.5));
        var takeover = high.NextDeadline!.Value;
        Assert.True(takeover < low.NextDeadline);
        high.OnTimer(takeover).AssertBecameMaster(VrrpTransitionReason.PriorityZeroReceived);
        // The winner's first advert reaches the other backup before its own skew runs out; it stays backup.
        low.Hear(Peer(11), 200, takeover);
        Assert.True(low.OnTimer(At(1.5) + low.SkewTime).IsEmpty);
        Assert.Equal(VrrpState.Backup, low.State);
    }

    [Fact]
    public void Graceful_shutdown_of_a_master_sends_priority_zero_exactly_as_keepalived()
    {
        var options = new VrrpInstanceOptions
        {
            Name = "VI_2",
            VirtualRouterId = 51,
            Priority = 100,
            PrimaryAddress = KeepalivedCaptures.Sender,
            VirtualAddresses = [IPAddress.Parse("10.99.0.100"), IPAddress.Parse("10.99.0.101")],
            AuthenticationType = VrrpAuthenticationType.SimpleText,
            AuthenticationPassword = "secret",
        };
        var m = Started(options);
        var up = m.OnTimer(T0 + Mdi100);
        var advert = Assert.Single(up.OfType<SendAdvertisement>()).Advertisement;
        Assert.Equal(KeepalivedCaptures.Payload(KeepalivedCaptures.V2PassPriority100), advert.Encode(KeepalivedCaptures.Sender, Group));

        var stop = m.Shutdown(At(10));
        Assert.Equal([typeof(SendAdvertisement), typeof(ReleaseVirtualAddresses), typeof(StateTransition)], stop.Kinds());
        Assert.Equal(KeepalivedCaptures.Payload(KeepalivedCaptures.V2PassPriority0), ((SendAdvertisement)stop.Actions[0]).Advertisement.Encode(KeepalivedCaptures.Sender, Group));
        Assert.Equal((VrrpState.Master, VrrpState.Stopped, VrrpTransitionReason.Shutdown), (stop.Transition().From, stop.Transition().To, stop.Transition().Reason));
        Assert.Null(m.NextDeadline);
        Assert.True(m.OnTimer(At(20)).IsEmpty);
        Assert.True(m.Shutdown(At(21)).IsEmpty);
    }

    [Fact]
    public void Backup_shutdown_sends_nothing()
    {
        var m = Started(Options(100));
        var stop = m.Shutdown(At(1));
        Assert.Equal([typeof(StateTransition)], stop.Kinds());
        Assert.Equal(VrrpState.Stopped, m.State);
    }

    [Fact]
    public void Address_owner_goes_straight_to_master()
    {
        var m = new VrrpInstanceStateMachine(Options(255));
        var start = m.Start(T0);
        start.AssertBecameMaster(VrrpTransitionReason.Startup);
        Assert.Equal(VrrpState.Initialize, start.Transition().From);
        Assert.Equal(At(1), m.NextDeadline);
    }

    [Fact]
    public void State_master_starts_as_master_without_waiting_like_keepalived()
    {
        // keepalived: `state MASTER` times out of BACKUP after 1 µs, i.e. becomes master at once, whatever the priority.
        var m = new VrrpInstanceStateMachine(Options(100) with { InitialState = VrrpState.Master });
        m.Start(T0).AssertBecameMaster(VrrpTransitionReason.Startup);
        // A better master answers and we yield at once.
        m.Hear(Peer(20), 150, At(0.01));
        Assert.Equal(VrrpState.Backup, m.State);
    }

    [Fact]
    public void Keepalived_fix_ups_of_contradictory_settings_are_applied_and_reported()
    {
        var m = new VrrpInstanceStateMachine(Options(100) with { InitialState = VrrpState.Master, Nopreempt = true, PreemptDelay = TimeSpan.FromSeconds(3) });
        Assert.False(m.Options.Nopreempt);
        Assert.Equal(TimeSpan.Zero, m.Options.PreemptDelay);
        Assert.Equal(2, m.Warnings.Count);
        Assert.Contains(m.Warnings, w => w.Contains("nopreempt will not work with initial state MASTER"));

        var owner = new VrrpInstanceStateMachine(Options(255) with { Nopreempt = true });
        Assert.False(owner.Options.Nopreempt);
        Assert.Equal(VrrpState.Master, owner.Options.InitialState);

        var both = new VrrpInstanceStateMachine(Options(100) with { Nopreempt = true, PreemptDelay = TimeSpan.FromSeconds(3) });
        Assert.True(both.Options.Nopreempt);
        Assert.Equal(TimeSpan.Zero, both.Options.PreemptDelay);
    }

    [Fact]
    public void Invalid_configuration_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new VrrpInstanceStateMachine(Options(100) with { AdvertisementInterval = TimeSpan.FromMilliseconds(500) }));
        Assert.Throws<ArgumentException>(() => new VrrpInstanceStateMachine(Options(100) with { AuthenticationType = VrrpAuthenticationType.IpAuthenticationHeader }));
        Assert.Throws<ArgumentException>(() => new VrrpInstanceStateMachine(Options(100, VrrpVersion.V3, 0.005)));
        Assert.Throws<ArgumentException>(() => new VrrpInstanceStateMachine(Options(0)));
        Assert.Throws<ArgumentException>(() => new VrrpInstanceStateMachine(Options(100) with { VirtualRouterId = 0 }));
    }

    [Fact]
    public void Equal_priority_is_broken_by_the_higher_primary_address()
    {
        var lowAddress = Started(Options(100, us: Peer(5)));
        lowAddress.OnTimer(T0 + Mdi100);
        var yielded = lowAddress.Hear(Peer(6), 100, At(4));
        Assert.Equal(VrrpState.Backup, lowAddress.State);
        Assert.Equal(VrrpTransitionReason.HigherPriorityAdvertSeen, yielded.Transition().Reason);

        var highAddress = Started(Options(100, us: Peer(6)));
        highAddress.OnTimer(T0 + Mdi100);
        var answer = highAddress.Hear(Peer(5), 100, At(4));
        Assert.Equal(VrrpState.Master, highAddress.State);
        Assert.Equal([typeof(SendAdvertisement)], answer.Kinds());
    }

    [Fact]
    public void Addresses_compare_as_numbers_not_as_text()
    {
        // "10.0.0.9" > "10.0.0.10" as text; as addresses .10 is higher and must win.
        var m = Started(Options(100, us: Peer(9)));
        m.OnTimer(T0 + Mdi100);
        m.Hear(Peer(10), 100, At(4));
        Assert.Equal(VrrpState.Backup, m.State);
    }

    [Fact]
    public void Equal_priority_backup_keeps_obeying_the_master_whatever_the_addresses()
    {
        var m = Started(Options(100, us: Peer(200)));
        for (var i = 1; i <= 10; i++)
            m.Hear(Peer(5), 100, At(i));
        Assert.Equal(At(10) + Mdi100, m.NextDeadline);
        Assert.Equal(VrrpState.Backup, m.State);
    }

    [Fact]
    public void Master_answers_priority_zero_from_another_node_and_restarts_its_advert_timer()
    {
        var m = Started(Options(255));
        var answer = m.Hear(Peer(20), 0, At(0.4));
        Assert.Equal(255, Assert.IsType<SendAdvertisement>(Assert.Single(answer.Actions)).Priority);
        Assert.Equal(At(1.4), m.NextDeadline);
    }

    [Fact]
    public void Two_address_owners_the_local_one_steps_down_to_254_as_keepalived_does()
    {
        var m = Started(Options(255, us: Peer(5)));
        var d = m.Hear(Peer(6), 255, At(0.5));
        Assert.Equal([typeof(EffectivePriorityChange), typeof(ReleaseVirtualAddresses), typeof(StateTransition)], d.Kinds());
        Assert.Equal(254, m.EffectivePriority);
        Assert.Equal(VrrpState.Backup, m.State);
    }

    [Fact]
    public void Fault_from_master_sends_priority_zero_and_releases_then_recovery_waits_as_backup()
    {
        var m = Started(Options(100));
        m.OnTimer(T0 + Mdi100);
        var fault = m.OnFault(VrrpTransitionReason.ScriptFailed, At(10));
        Assert.Equal([typeof(SendAdvertisement), typeof(ReleaseVirtualAddresses), typeof(StateTransition)], fault.Kinds());
        Assert.Equal(0, ((SendAdvertisement)fault.Actions[0]).Priority);
        Assert.Equal((VrrpState.Master, VrrpState.Fault, VrrpTransitionReason.ScriptFailed), (fault.Transition().From, fault.Transition().To, fault.Transition().Reason));
        Assert.Null(m.NextDeadline);
        Assert.True(m.OnFault(VrrpTransitionReason.InterfaceDown, At(11)).IsEmpty);
        Assert.True(m.Hear(Peer(20), 50, At(12)).IsEmpty); // adverts change nothing in FAULT

        var back = m.OnFaultCleared(VrrpTransitionReason.ScriptRecovered, At(20));
        Assert.Equal((VrrpState.Fault, VrrpState.Backup, VrrpTransitionReason.ScriptRecovered), (back.Transition().From, back.Transition().To, back.Transition().Reason));
        Assert.Equal(At(20) + Mdi100, m.NextDeadline);
        Assert.True(m.OnFaultCleared(VrrpTransitionReason.ScriptRecovered, At(21)).IsEmpty);
    }

    [Fact]
    public void Owner_leaving_fault_goes_straight_back_to_master()
    {
        var m = Started(Options(255));
        m.OnFault(VrrpTransitionReason.InterfaceDown, At(1));
        m.OnFaultCleared(VrrpTransitionReason.InterfaceUp, At(2)).AssertBecameMaster(VrrpTransitionReason.InterfaceUp);
    }

    [Fact]
    public void Fault_from_backup_sends_nothing()
    {
        var m = Started(Options(100));
        var fault = m.OnFault(VrrpTransitionReason.InterfaceDown, At(1));
        Assert.Equal([typeof(StateTransition)], fault.Kinds());
    }

    [Fact]
    public void Priority_change_on_a_master_is_advertised_at_once_and_reported()
    {
        var m = Started(Options(100));
        m.OnTimer(T0 + Mdi100);
        var deadline = m.NextDeadline;
        var d = m.OnPriorityChanged(80, At(4));
        Assert.Equal([typeof(SendAdvertisement), typeof(EffectivePriorityChange)], d.Kinds());
        Assert.Equal(80, ((SendAdvertisement)d.Actions[0]).Priority);
        Assert.Equal(new EffectivePriorityChange(100, 80, "tracking"), d.Actions[1]);
        Assert.Equal(deadline, m.NextDeadline);
        Assert.True(m.OnPriorityChanged(80, At(4.1)).IsEmpty);
        // Clamped to 1–254 as keepalived does.
        m.OnPriorityChanged(-20, At(4.2));
        Assert.Equal(1, m.EffectivePriority);
        m.OnPriorityChanged(400, At(4.3));
        Assert.Equal(254, m.EffectivePriority);
    }

    [Fact]
    public void A_master_whose_priority_drops_is_preempted_by_a_better_backup()
    {
        var master = Started(Options(120, us: Peer(5)));
        var backup = Started(Options(110, us: Peer(6)));
        master.OnTimer(master.NextDeadline!.Value);
        backup.Hear(Peer(5), 120, At(3.6));
        master.OnPriorityChanged(90, At(4));
        // The backup now ignores the master's 90 adverts and takes over when its timer runs out.
        backup.Hear(Peer(5), 90, At(4));
        backup.Hear(Peer(5), 90, At(5));
        backup.OnTimer(At(3.6) + backup.MasterDownInterval).AssertBecameMaster(VrrpTransitionReason.Preempted);
        var yielded = master.Hear(Peer(6), 110, At(3.6) + backup.MasterDownInterval);
        Assert.Equal(VrrpTransitionReason.HigherPriorityAdvertSeen, yielded.Transition().Reason);
    }

    [Fact]
    public void A_rejected_packet_changes_nothing_and_is_counted()
    {
        var m = Started(Options(100));
        var before = (m.State, m.NextDeadline, m.EffectivePriority);
        var wrongPassword = VrrpAdvertisement.CreateV2(7, 200, 1, [Vip], VrrpAuthenticationType.SimpleText, "guess").Encode(Peer(20), Group);
        var d = m.Receive(wrongPassword, new ReceivedIpHeader(Peer(20), Group, 255), At(1));
        Assert.Equal(AdvertisementRejectReason.PasswordMismatch, d.RejectReason);
        Assert.True(d.IsEmpty);
        Assert.Equal(before, (m.State, m.NextDeadline, m.EffectivePriority));
        Assert.Equal(1, m.Counters[AdvertisementRejectReason.PasswordMismatch]);

        var otherVrid = VrrpAdvertisement.CreateV2(8, 200, 1, [Vip], VrrpAuthenticationType.SimpleText, "s3cret").Encode(Peer(20), Group);
        Assert.Equal(AdvertisementRejectReason.VirtualRouterIdMismatch, m.Receive(otherVrid, new ReceivedIpHeader(Peer(20), Group, 255), At(2)).RejectReason);
        Assert.Equal(before, (m.State, m.NextDeadline, m.EffectivePriority));
        m.OnTimer(T0 + Mdi100).AssertBecameMaster(VrrpTransitionReason.MasterDownTimerExpired);
    }

    [Fact]
    public void Accepted_observations_reach_the_caller()
    {
        var m = Started(Options(100, VrrpVersion.V3, 1));
        var d = m.Hear(Peer(20), 200, At(1), interval: 0.5);
        Assert.Equal(AdvertisementObservations.AdvertIntervalDiffers, d.Observations);
        Assert.Equal(1, m.Counters.Accepted);
    }
}
