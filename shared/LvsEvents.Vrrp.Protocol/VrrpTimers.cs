namespace LvsEvents.Vrrp.Protocol;

/// <summary>The RFC timer arithmetic, in whole ticks so that tests can assert exact instants.</summary>
public static class VrrpTimers
{
    /// <summary>
    /// Skew_Time: v2 (RFC 3768 §6.1) (256 − Priority)/256 s; v3 (RFC 5798 §6.1)
    /// ((256 − Priority) × Master_Adver_Interval)/256. keepalived computes the same with integer division.
    /// </summary>
    public static TimeSpan SkewTime(VrrpVersion version, int priority, TimeSpan masterAdvertisementInterval)
    {
        var weight = 256 - priority;
        return version == VrrpVersion.V2
            ? TimeSpan.FromTicks(weight * TimeSpan.TicksPerSecond / 256)
            : TimeSpan.FromTicks(weight * masterAdvertisementInterval.Ticks / 256);
    }

    /// <summary>
    /// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time. The 3 is keepalived's
    /// <c>down_timer_adverts</c>, configurable there and here.
    /// </summary>
    public static TimeSpan MasterDownInterval(VrrpVersion version, int priority, TimeSpan masterAdvertisementInterval, int downTimerAdverts = 3)
        => TimeSpan.FromTicks(downTimerAdverts * masterAdvertisementInterval.Ticks)
           + SkewTime(version, priority, masterAdvertisementInterval);
}
