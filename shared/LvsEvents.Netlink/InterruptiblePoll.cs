using System.Runtime.InteropServices;
using Tmds.Linux;

namespace LvsEvents.Netlink;

/// <summary>
/// poll(2) with its errno captured by the runtime right after the call. Reading errno afterwards (Tmds.LibC's errno)
/// can see it overwritten by the runtime in between: a poll interrupted by the runtime's own suspension signal came
/// back as -1 with "errno 0" and was thrown as "Success" instead of being retried.
/// </summary>
public static unsafe class InterruptiblePoll
{
    /// <summary>Ready descriptors (0: timed out), or -1 with <paramref name="error"/> set (EINTR: interrupted, wait again).</summary>
    public static int Wait(pollfd* fds, int count, int timeoutMilliseconds, out int error)
    {
        var ready = Poll(fds, (nuint)count, timeoutMilliseconds);
        error = ready < 0 ? Marshal.GetLastPInvokeError() : 0;
        return ready;
    }

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int Poll(pollfd* fds, nuint count, int timeout);
}
