using Microsoft.Extensions.Logging;

namespace LvsEvents.Health.Scheduling;

/// <summary>
/// Runs every checker's probes at their due times without a thread per check: one loop (on its own thread) sleeps until the earliest due
/// time (woken early when an earlier one is scheduled, and at least every <c>tick</c> for the watchdog's heartbeat),
/// takes what is due from a priority queue and hands each probe to the thread pool; probes are asynchronous sockets, so tens of
/// thousands a second need a handful of threads. At most <c>maxConcurrentProbes</c> are in flight (a flood of hanging
/// servers must not exhaust file descriptors); a probe waiting for a slot starts late, which the statistics show.
/// </summary>
public sealed class ProbeScheduler(
    Func<CheckRunner, CancellationToken, ValueTask<TimeSpan>> runProbe,
    Func<TimeSpan> now,
    TimeSpan tick,
    int maxConcurrentProbes,
    ILogger logger)
{
    private readonly PriorityQueue<CheckRunner, TimeSpan> _due = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _slots = new(maxConcurrentProbes, maxConcurrentProbes);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private TimeSpan _sleepingUntil = TimeSpan.MaxValue;
    private CancellationToken _stopping;
    private long _heartbeatTicks;
    private int _inFlight;

    public SchedulerStatistics Statistics { get; } = new();

    /// <summary>When the loop last woke up; the watchdog's view of the scheduler itself.</summary>
    public TimeSpan LastHeartbeat => TimeSpan.FromTicks(Volatile.Read(ref _heartbeatTicks));

    public int InFlight => Volatile.Read(ref _inFlight);

    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _due.Count;
            }
        }
    }

    public void Schedule(CheckRunner runner, TimeSpan dueAt)
    {
        runner.Scheduler = this;
        runner.DueAt = dueAt;
        bool wake;
        lock (_gate)
        {
            _due.Enqueue(runner, dueAt);
            wake = dueAt < _sleepingUntil;
            if (wake)
            {
                _sleepingUntil = dueAt;
            }
        }

        if (wake && _wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another scheduling woke it first.
            }
        }
    }

    /// <summary>
    /// Runs the loop on a thread of its own until cancelled: a busy thread pool (thousands of probe completions a
    /// second) must not delay the dispatch of the next due probes.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        _stopping = cancellationToken;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Loop(cancellationToken);
                done.TrySetResult();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        { IsBackground = true, Name = "health-scheduler" };
        thread.Start();
        return done.Task;
    }

    private void Loop(CancellationToken cancellationToken)
    {
        var ready = new List<CheckRunner>();
        while (!cancellationToken.IsCancellationRequested)
        {
            var current = now();
            Volatile.Write(ref _heartbeatTicks, current.Ticks);
            ready.Clear();
            TimeSpan sleep;
            lock (_gate)
            {
                // Waits are whole milliseconds: what falls due within the next one goes now (at most 1 ms early),
                // instead of the loop spinning through zero-length waits.
                while (_due.TryPeek(out var runner, out var dueAt) && dueAt <= current + Resolution)
                {
                    _due.Dequeue();
                    ready.Add(runner);
                }

                var next = _due.TryPeek(out _, out var nextDue) ? nextDue : TimeSpan.MaxValue;
                sleep = ready.Count > 0 ? TimeSpan.Zero : next == TimeSpan.MaxValue ? tick : Max(Min(next - current, tick), Resolution);
                _sleepingUntil = ready.Count > 0 ? current : current + sleep;
            }

            foreach (var runner in ready)
            {
                _slots.Wait(cancellationToken);
                Interlocked.Increment(ref _inFlight);
                if (runner.Probe.StartsWithoutBlocking && Checking.ProbeLoop.For(runner) is { } loop)
                {
                    // The whole probe (connect, reset, the result applied) on the probe loop's thread.
                    loop.Execute(runner);
                }
                else
                {
                    ThreadPool.UnsafeQueueUserWorkItem(runner, preferLocal: false);
                }
            }

            if (sleep > TimeSpan.Zero)
            {
                _wake.Wait(sleep, cancellationToken);
            }
        }
    }

    private static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    internal async Task RunOneAsync(CheckRunner runner)
    {
        // Lateness as the probe really starts: queueing for a slot and for a pool thread included.
        Statistics.RecordStart(now() - runner.DueAt, runner.Machine.Timing.DelayLoop);
        TimeSpan next;
        try
        {
            next = await runProbe(runner, _stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            // A bug in handling one result must not silence the checker: log it and try again next loop.
            logger.LogError(e, "Probe {Checker} of {RealServer} failed unexpectedly", runner.Probe.Label, runner.Server.Ref);
            next = now() + runner.Machine.Timing.DelayLoop;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _slots.Release();
            Statistics.RecordCompletion();
        }

        if (!_stopping.IsCancellationRequested)
        {
            Schedule(runner, next);
        }
    }
}
