using LvsEvents.Contracts;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Health.Scheduling;

/// <summary>
/// What the watchdog found: the scheduler loop or a probe loop (no real server), or one checker, silent for too long.
/// </summary>
public sealed record StallFinding(string Checker, RealServerRef? RealServer, TimeSpan SilentFor, TimeSpan Expected);

/// <summary>
/// Watches the checkers themselves (keepalived's checker process has been seen frozen for days, keepalived #2523):
/// the scheduler loop must wake every tick, each probe loop (<see cref="Checking.ProbeLoop"/>) at least every second,
/// and every checker must produce a result within a few of its longest normal gaps. Each stall is reported once, as
/// <see cref="HealthCheckerStalled"/>, until the checker shows life again. It runs on its own thread, so that a starved
/// thread pool (the likeliest freeze) cannot silence it too.
/// </summary>
public sealed class CheckerWatchdog(HealthEngine engine, HealthOptions options)
{
    private bool _schedulerReported;
    private readonly HashSet<string> _loopsReported = [];

    /// <summary>The stalls at <paramref name="now"/> not reported yet; marks them reported.</summary>
    public IReadOnlyList<StallFinding> Inspect(TimeSpan now)
    {
        var findings = new List<StallFinding>();
        var loopSilence = now - engine.Scheduler.LastHeartbeat;
        if (engine.Scheduler.LastHeartbeat > TimeSpan.Zero && loopSilence > options.SchedulerStallAfter)
        {
            if (!_schedulerReported)
            {
                _schedulerReported = true;
                findings.Add(new StallFinding("scheduler", null, loopSilence, options.Tick));
            }
        }
        else
        {
            _schedulerReported = false;
        }

        // A probe loop's silence is real time; now may be ahead of the engine's clock (a test looks into the future).
        var ahead = now - engine.Now();
        foreach (var loop in Checking.ProbeLoop.Started)
        {
            var silent = loop.SilentFor + ahead;
            if (silent <= options.SchedulerStallAfter)
            {
                _loopsReported.Remove(loop.Name);
            }
            else if (_loopsReported.Add(loop.Name))
            {
                findings.Add(new StallFinding(loop.Name, null, silent, TimeSpan.FromSeconds(1)));
            }
        }

        foreach (var checker in engine.Checkers)
        {
            var expected = checker.Machine.Timing.LongestQuietGap;
            var silent = now - checker.LastActivity;
            // The first probe may come as late as the warmup.
            var allowed = (expected * options.StallFactor) + (checker.ProbeCount == 0 ? checker.Machine.Timing.Warmup : TimeSpan.Zero);
            if (silent > allowed && !checker.StallReported)
            {
                checker.StallReported = true;
                findings.Add(new StallFinding(checker.Probe.Label, checker.Server.Ref, silent, expected));
            }
        }

        return findings;
    }

    public Task RunAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                while (!cancellationToken.WaitHandle.WaitOne(options.WatchdogInterval))
                {
                    foreach (var finding in Inspect(engine.Now()))
                    {
                        Report(finding);
                    }
                }
            }
            finally
            {
                done.TrySetResult();
            }
        })
        { IsBackground = true, Name = "health-watchdog" };
        thread.Start();
        return done.Task;
    }

    private void Report(StallFinding finding)
    {
        engine.Log(finding);
        engine.Post(new HealthCheckerStalled
        {
            EventId = Guid.CreateVersion7(),
            Checker = finding.Checker,
            RealServer = finding.RealServer,
            SilentFor = finding.SilentFor,
            Expected = finding.Expected,
        });
    }
}
