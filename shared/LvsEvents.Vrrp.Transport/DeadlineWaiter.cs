using LvsEvents.Netlink;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace LvsEvents.Vrrp.Transport;

/// <summary>
/// What a protocol loop blocks on between inputs: a timerfd armed for its next deadline (CLOCK_MONOTONIC, to the
/// nanosecond: keepalived's scheduler waits the same way) and an eventfd that <see cref="Signal"/> writes when an
/// input is queued, both in one poll. A timed wait on a semaphore has millisecond granularity and wakes up to a
/// couple of milliseconds late, which a backup's master-down timer would add to every failover.
/// </summary>
public sealed class DeadlineWaiter : IDisposable
{
    private const int ClockMonotonic = 1;
    private readonly int _timer;
    private readonly int _event;
    private int _disposed;

    public DeadlineWaiter()
    {
        _timer = TimerFdCreate(ClockMonotonic, TimerFdNonBlock | TimerFdCloseOnExec);
        if (_timer < 0)
            throw new IOException($"timerfd_create: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        _event = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (_event < 0)
        {
            var code = errno;
            close(_timer);
            throw new IOException($"eventfd: {Marshal.GetPInvokeErrorMessage(code)}");
        }
    }

    /// <summary>Wakes the waiting thread (or the next wait, if none is waiting): an input is queued.</summary>
    public unsafe void Signal()
    {
        if (Volatile.Read(ref _disposed) != 0)
            return;
        ulong one = 1;
        // EAGAIN means the counter is already non-zero: the wake-up is pending anyway.
        _ = write(_event, &one, sizeof(ulong));
    }

    /// <summary>
    /// Blocks until <see cref="Signal"/> or until <paramref name="timeout"/> has passed (null: no deadline).
    /// Returns true when signalled; a zero or negative timeout returns at once.
    /// </summary>
    public unsafe bool Wait(TimeSpan? timeout)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (timeout is { } t && t <= TimeSpan.Zero)
            return Drain(_event);
        // Relative and one-shot; a zero it_value disarms (no deadline).
        var ticks = timeout is { } span ? span.Ticks : 0;
        var setting = new TimerSpec
        {
            ValueSeconds = ticks / TimeSpan.TicksPerSecond,
            ValueNanoseconds = ticks % TimeSpan.TicksPerSecond * 100,
        };
        if (TimerFdSetTime(_timer, 0, &setting, null) != 0)
            throw new IOException($"timerfd_settime: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = _event, events = POLLIN };
        fds[1] = new pollfd { fd = _timer, events = POLLIN };
        while (true)
        {
            var ready = InterruptiblePoll.Wait(fds, 2, -1, out var pollError);
            if (ready < 0 && pollError == EINTR)
                continue;
            if (ready < 0)
                throw new IOException($"poll: {Marshal.GetPInvokeErrorMessage(pollError)}");
            var signalled = (fds[0].revents & POLLIN) != 0 && Drain(_event);
            if ((fds[1].revents & POLLIN) != 0)
                Drain(_timer);
            return signalled;
        }
    }

    private static unsafe bool Drain(int fd)
    {
        ulong count;
        return read(fd, &count, sizeof(ulong)) == sizeof(ulong);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        close(_timer);
        close(_event);
    }

    private const int TimerFdNonBlock = 0x800;   // TFD_NONBLOCK = O_NONBLOCK
    private const int TimerFdCloseOnExec = 0x80000; // TFD_CLOEXEC = O_CLOEXEC

    // struct itimerspec: it_interval then it_value, each a 64-bit timespec; the interval stays zero (one-shot).
    [StructLayout(LayoutKind.Sequential)]
    private struct TimerSpec
    {
        public long IntervalSeconds;
        public long IntervalNanoseconds;
        public long ValueSeconds;
        public long ValueNanoseconds;
    }

    // Tmds.LibC has no timerfd; errno is captured by the runtime right after the call.
    [DllImport("libc", EntryPoint = "timerfd_create", SetLastError = true)]
    private static extern int TimerFdCreate(int clock, int flags);

    [DllImport("libc", EntryPoint = "timerfd_settime", SetLastError = true)]
    private static extern unsafe int TimerFdSetTime(int fd, int flags, TimerSpec* value, TimerSpec* old);
}
