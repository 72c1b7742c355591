namespace LvsEvents.Vrrp.Definitions;

/// <summary>An instance's (or sync group's) <c>notify_master|backup|fault|stop</c> and generic <c>notify</c> scripts.</summary>
public sealed record NotifyScripts(string? Master, string? Backup, string? Fault, string? Stop, string? Any)
{
    public static readonly NotifyScripts None = new(null, null, null, null, null);

    public bool IsEmpty => Master is null && Backup is null && Fault is null && Stop is null && Any is null;
}
