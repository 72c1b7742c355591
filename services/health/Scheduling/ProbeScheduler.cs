using System.Diagnostics;
using LvsEvents.Health.Checking;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Health.Scheduling;

/// <summary>
/// Runs every checker's probes at their due times without a thread per check. TCP_CHECK and clear-text HTTP_GET
/// checkers are timed by the <see cref="ProbeLoop"/> their probes run on (due time, probe and result on one thread).
/// The others wait here: one loop (on its own thread) sleeps until the earliest due time (woken early when an earlier
/// one is scheduled, and at least every <c>tick</c> for the watchdog's heartbeat), takes what is due from a priority
/// queue and hands each probe to the thread pool; probes are asynchronous sockets, so tens of thousands a second need
/// a handful of threads. At most <c>maxConcurrentProbes</c> are in flight (a flood of hanging servers must not exhaust
/// file descriptors); a probe waiting for a slot waits here and starts late, which the statistics show.
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
    private bool _running;

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
        // Before the scheduler runs (the engine files every checker's first probe), its stop token is not known yet.
        if (Volatile.Read(ref _running) && runner.Probe.StartsWithoutBlocking && ProbeLoop.For(runner) is { } loop)
        {
            var wait = dueAt - now();
            loop.RunAt(runner, Stopwatch.GetTimestamp() + (wait <= TimeSpan.Zero ? 0 : (long)(wait.TotalSeconds * Stopwatch.Frequency)));
            return;
        }

        Enqueue(runner, dueAt);
    }

    /// <summary>Files <paramref name="runner"/> in this scheduler's own queue.</summary>
    private void Enqueue(CheckRunner runner, TimeSpan dueAt)
    {
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
        Volatile.Write(ref _running, true);
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
                runner.HoldsSlot = true;
                if (runner.Probe.StartsWithoutBlocking && ProbeLoop.For(runner) is { } loop)
                {
                    // It waited here for a slot: the whole probe (connect, reset, the result applied) on its loop's thread.
                    loop.RunAt(runner, 0);
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

    /// <summary>
    /// Starts <paramref name="runner"/>'s probe, now due, on the calling thread (a probe loop's or a pool thread), with a
    /// slot; when every slot is taken the probe goes back to this scheduler's queue, whose thread waits for one.
    /// </summary>
    internal void Start(CheckRunner runner)
    {
        if (_stopping.IsCancellationRequested)
        {
            if (runner.HoldsSlot)
            {
                runner.HoldsSlot = false;
                _slots.Release();
            }

            return;
        }

        if (!runner.HoldsSlot && !_slots.Wait(0))
        {
            Enqueue(runner, runner.DueAt);
            return;
        }

        runner.HoldsSlot = false;
        Interlocked.Increment(ref _inFlight);
        _ = RunOneAsync(runner);
    }

    private async Task RunOneAsync(CheckRunner runner)
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
