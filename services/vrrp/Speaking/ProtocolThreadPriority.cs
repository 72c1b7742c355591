using System.Runtime.InteropServices;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// Raises the scheduling priority (nice) of the calling thread: the protocol threads must keep their advert
/// timing on a busy director, or the backup takes over from a healthy master (keepalived has vrrp_priority and
/// vrrp_rt_priority for the same reason). Linux applies nice per thread.
/// </summary>
public static partial class ProtocolThreadPriority
{
    private const int PrioProcess = 0;

    /// <returns>null on success, else why not (e.g. not permitted).</returns>
    public static string? TrySet(int nice)
    {
        if (setpriority(PrioProcess, gettid(), nice) == 0)
            return null;
        return Marshal.GetLastPInvokeErrorMessage();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc")]
    private static partial int gettid();
}
