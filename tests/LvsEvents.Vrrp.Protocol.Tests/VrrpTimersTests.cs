namespace LvsEvents.Vrrp.Protocol.Tests;

public class VrrpTimersTests
{
    [Theory]
    // v2: 3 s + (256 − p)/256 s; keepalived's 3.57–3.64 s measured failover at advert_int 1 sits on these.
    [InlineData(100, 36_093_750)]
    [InlineData(255, 30_039_062)]
    [InlineData(1, 39_960_937)]
    public void V2_master_down_interval(int priority, long ticks)
        => Assert.Equal(TimeSpan.FromTicks(ticks), VrrpTimers.MasterDownInterval(VrrpVersion.V2, priority, TimeSpan.FromSeconds(1)));

    [Fact]
    public void V2_skew_ignores_the_interval()
        => Assert.Equal(VrrpTimers.SkewTime(VrrpVersion.V2, 100, TimeSpan.FromSeconds(1)), VrrpTimers.SkewTime(VrrpVersion.V2, 100, TimeSpan.FromSeconds(5)));

    [Theory]
    // v3: 3 × interval + (256 − p) × interval / 256.
    [InlineData(0.1, 100, 3_609_375)]   // 360.9375 ms
    [InlineData(0.02, 100, 721_875)]    // 72.1875 ms
    [InlineData(1, 100, 36_093_750)]
    public void V3_master_down_interval_scales_skew_with_the_master_interval(double interval, int priority, long ticks)
        => Assert.Equal(TimeSpan.FromTicks(ticks), VrrpTimers.MasterDownInterval(VrrpVersion.V3, priority, TimeSpan.FromSeconds(interval)));

    [Fact]
    public void Down_timer_adverts_replaces_the_three()
        => Assert.Equal(TimeSpan.FromSeconds(5) + VrrpTimers.SkewTime(VrrpVersion.V2, 100, TimeSpan.FromSeconds(1)),
            VrrpTimers.MasterDownInterval(VrrpVersion.V2, 100, TimeSpan.FromSeconds(1), downTimerAdverts: 5));
}
