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

    /// <summary>Sets the nice of every thread of this process; threads it starts later inherit it from their creator.</summary>
    /// <returns>null on success, else why not (the first failure).</returns>
    public static string? TrySetProcess(int nice)
    {
        const int noSuchThread = 3; // ESRCH: the thread ended since it was listed
        string? problem = null;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture, out var tid)
                && setpriority(PrioProcess, tid, nice) != 0 && Marshal.GetLastPInvokeError() != noSuchThread)
                problem ??= Marshal.GetLastPInvokeErrorMessage();
        }
        return problem;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc")]
    private static partial int gettid();
}
