using LvsEvents.Contracts;
using static LvsEvents.Vrrp.Protocol.Tests.Lab;

namespace LvsEvents.Vrrp.Protocol.Tests;

public class V3TimingTests
{
    [Theory]
    [InlineData(0.1, 3_609_375)]  // 3 × 100 ms + 156 × 100 ms / 256
    [InlineData(0.02, 721_875)]   // 3 × 20 ms + 156 × 20 ms / 256
    public void Backup_takes_over_after_exactly_the_v3_master_down_interval(double interval, long mdiTicks)
    {
        var mdi = TimeSpan.FromTicks(mdiTicks);
        var m = Started(Options(100, VrrpVersion.V3, interval));
        Assert.Equal(mdi, m.MasterDownInterval);
        // Hear a master for a while at its interval…
        var step = TimeSpan.FromTicks((long)Math.Round(interval * TimeSpan.TicksPerSecond));
        var t = T0;
        for (var i = 0; i < 20; i++)
        {
            t += step;
            Assert.True(m.OnTimer(t).IsEmpty);
            m.Hear(Peer(20), 200, t);
        }
        // …then it dies: master exactly Master_Down_Interval after its last advert, not a tick earlier.
        Assert.True(m.OnTimer(t + mdi - TimeSpan.FromTicks(1)).IsEmpty);
        var up = m.OnTimer(t + mdi);
        up.AssertBecameMaster(VrrpTransitionReason.MasterDownTimerExpired);
        Assert.Equal(3, up.Transition().Evidence.MissedAdverts);
        // And it advertises at its interval from then on.
        Assert.Equal(t + mdi + step, m.NextDeadline);
        Assert.Single(m.OnTimer(t + mdi + step).OfType<SendAdvertisement>());
        Assert.Equal(t + mdi + step + step, m.NextDeadline);
    }

    [Fact]
    public void Backup_learns_the_masters_interval_and_its_skew_follows_it()
    {
        // Configured 1 s, but the master advertises every 100 ms: RFC 5798 §6.4.2 Master_Adver_Interval.
        var m = Started(Options(100, VrrpVersion.V3, 1));
        Assert.Equal(TimeSpan.FromTicks(36_093_750), m.MasterDownInterval);
        m.Hear(Peer(20), 200, At(0.5), interval: 0.1);
        Assert.Equal(TimeSpan.FromMilliseconds(100), m.MasterAdvertisementInterval);
        Assert.Equal(TimeSpan.FromTicks(3_609_375), m.MasterDownInterval);
        Assert.Equal(At(0.5) + TimeSpan.FromTicks(3_609_375), m.NextDeadline);
        // Priority 0 then uses the learnt skew: 156 × 100 ms / 256 = 60.9375 ms.
        m.Hear(Peer(20), 0, At(0.6), interval: 0.1);
        Assert.Equal(At(0.6) + TimeSpan.FromTicks(609_375), m.NextDeadline);
        m.OnTimer(At(0.6) + TimeSpan.FromTicks(609_375)).AssertBecameMaster(VrrpTransitionReason.PriorityZeroReceived);
        // As master it advertises at its own configured interval.
        Assert.Equal(At(0.6) + TimeSpan.FromTicks(609_375) + TimeSpan.FromSeconds(1), m.NextDeadline);
    }

    [Fact]
    public void V3_graceful_stop_hands_over_within_skew_time_at_20ms()
    {
        var master = Started(Options(200, VrrpVersion.V3, 0.02, us: Peer(5)));
        var backup = Started(Options(100, VrrpVersion.V3, 0.02, us: Peer(6)));
        master.OnTimer(master.NextDeadline!.Value);
        var beat = master.NextDeadline!.Value;
        backup.Hear(Peer(5), 200, beat);
        var stop = master.Shutdown(beat + TimeSpan.FromMilliseconds(5));
        Assert.Equal(0, stop.OfType<SendAdvertisement>().Single().Priority);
        backup.Hear(Peer(5), 0, beat + TimeSpan.FromMilliseconds(5), interval: 0.02);
        var takeover = backup.NextDeadline!.Value - (beat + TimeSpan.FromMilliseconds(5));
        Assert.Equal(TimeSpan.FromTicks(121_875), takeover); // 12.1875 ms
        backup.OnTimer(backup.NextDeadline!.Value).AssertBecameMaster(VrrpTransitionReason.PriorityZeroReceived);
    }
}
