using System.Runtime.InteropServices;

namespace LvsEvents.Vrrp.Bench;

/// <summary>
/// The bench's own measuring threads (the advert watcher that also crashes the master, the VIP watcher) run at
/// nice −15: on a machine shared with builds, a nice-0 thread can wake milliseconds after the event it stamps,
/// noise that is the same for both speakers but larger than the difference being measured.
/// </summary>
public static class MeasuringThreadPriority
{
    private const int PrioProcess = 0;
    private const int Nice = -15;

    public static void Raise()
    {
        // Best effort: without CAP_SYS_NICE the bench still measures, only with more noise.
        _ = setpriority(PrioProcess, gettid(), Nice);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setpriority(int which, int who, int prio);

    [DllImport("libc")]
    private static extern int gettid();
}
