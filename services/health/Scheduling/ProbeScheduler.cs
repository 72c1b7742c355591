using Microsoft.Extensions.Logging;

namespace LvsEvents.Health.Scheduling;

/// <summary>
/// Runs every checker's probes at their due times without a thread per check: one loop wakes every tick, takes what is
/// due from a priority queue and hands each probe to the thread pool; probes are asynchronous sockets, so tens of
/// thousands a second need a handful of threads. At most <c>maxConcurrentProbes</c> are in flight (a flood of hanging
/// servers must not exhaust file descriptors); a probe waiting for a slot starts late, which the statistics show.
/// </summary>
public sealed class ProbeScheduler(
    Func<CheckRunner, CancellationToken, ValueTask<TimeSpan>> runProbe,
    Func<TimeSpan> now,
    TimeProvider clock,
    TimeSpan tick,
    int maxConcurrentProbes,
    ILogger logger)
{
    private readonly PriorityQueue<CheckRunner, TimeSpan> _due = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _slots = new(maxConcurrentProbes, maxConcurrentProbes);
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
        lock (_gate)
        {
            _due.Enqueue(runner, dueAt);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _stopping = cancellationToken;
        var ready = new List<CheckRunner>();
        using var timer = new PeriodicTimer(tick, clock);
        try
        {
            do
            {
                var current = now();
                Volatile.Write(ref _heartbeatTicks, current.Ticks);
                ready.Clear();
                lock (_gate)
                {
                    while (_due.TryPeek(out var runner, out var dueAt) && dueAt <= current)
                    {
                        _due.Dequeue();
                        ready.Add(runner);
                    }
                }

                foreach (var runner in ready)
                {
                    if (!_slots.Wait(0))
                    {
                        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }

                    Statistics.RecordStart(now() - runner.DueAt, runner.Machine.Timing.DelayLoop);
                    Interlocked.Increment(ref _inFlight);
                    ThreadPool.UnsafeQueueUserWorkItem(runner, preferLocal: false);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    internal async Task RunOneAsync(CheckRunner runner)
    {
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
