using System.Diagnostics;

namespace LvsEvents.Vrrp.Transport.Tests;

/// <summary>The protocol loop's wait: never before its deadline, little after it, and at once for a posted input.</summary>
public sealed class DeadlineWaiterTests
{
    [Fact]
    public void A_wait_ends_at_its_deadline_never_before_and_mostly_within_a_millisecond()
    {
        using var waiter = new DeadlineWaiter();
        var late = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            var deadline = TimeSpan.FromMilliseconds(5 + i % 7 * 0.37);
            var started = Stopwatch.GetTimestamp();
            Assert.False(waiter.Wait(deadline));
            var took = Stopwatch.GetElapsedTime(started);
            Assert.True(took >= deadline, $"woke {(deadline - took).TotalMilliseconds:0.000} ms before the deadline");
            late.Add((took - deadline).TotalMilliseconds);
        }
        // A timed semaphore wait is late by up to ~2 ms (millisecond granularity); a timerfd by tens of microseconds,
        // scheduling aside: the median stays under a millisecond even on a busy 2-core machine.
        late.Sort();
        Assert.True(late[late.Count / 2] < 1.0, $"median lateness {late[late.Count / 2]:0.000} ms");
    }

    [Fact(Timeout = 10_000)]
    public async Task A_signal_wakes_a_wait_without_deadline_and_one_given_before_the_wait_is_not_lost()
    {
        using var waiter = new DeadlineWaiter();
        var waiting = Task.Factory.StartNew(() => waiter.Wait(null), TaskCreationOptions.LongRunning);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        waiter.Signal();
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(2)));

        waiter.Signal();
        var started = Stopwatch.GetTimestamp();
        Assert.True(waiter.Wait(TimeSpan.FromSeconds(5)));
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(1));
        // Consumed: the next wait runs to its deadline.
        Assert.False(waiter.Wait(TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public void A_deadline_already_passed_returns_at_once()
    {
        using var waiter = new DeadlineWaiter();
        var started = Stopwatch.GetTimestamp();
        Assert.False(waiter.Wait(TimeSpan.Zero));
        Assert.False(waiter.Wait(TimeSpan.FromMilliseconds(-3)));
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(100));
    }
}
