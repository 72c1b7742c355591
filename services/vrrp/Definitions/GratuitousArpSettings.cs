namespace LvsEvents.Vrrp.Definitions;

/// <summary>
/// keepalived's <c>garp_master_*</c>: on becoming master send <see cref="Repeat"/> ARPs per VIP at once and as
/// many again after <see cref="Delay"/>; while master, <see cref="RefreshRepeat"/> every <see cref="Refresh"/>.
/// </summary>
public sealed record GratuitousArpSettings(
    TimeSpan Delay,
    int Repeat,
    TimeSpan Refresh,
    int RefreshRepeat,
    TimeSpan Interval)
{
    public static readonly GratuitousArpSettings KeepalivedDefaults = new(TimeSpan.FromSeconds(5), 5, TimeSpan.Zero, 1, TimeSpan.Zero);
}
