using LvsEvents.Contracts;
using LvsEvents.Health.Checking;

namespace LvsEvents.Health.Tests;

/// <summary>Blocks a probe loop on purpose: nothing else may probe on the shared loops meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProbeLoopCollection
{
    public const string Name = "probe loops blocked";
}

/// <summary>
/// The probe loops time their checkers themselves, so a frozen loop silences every checker on it: the watchdog must
/// name the loop, once, and the loop's checkers must go on when it recovers.
/// </summary>
[Collection(ProbeLoopCollection.Name)]
public class ProbeLoopWatchdogTests
{
    [Fact]
    public async Task A_probe_loop_frozen_by_a_probe_is_reported_once_by_name_and_its_checkers_go_on()
    {
        await using var server = new TestHttpServer();
        var blocking = new LoopBlockingProbe(TimeSpan.FromMilliseconds(3000));
        // An idle loop comes round once a second: a stall is longer than that.
        var options = new HealthOptions { WatchdogInterval = TimeSpan.FromMilliseconds(100), SchedulerStallAfter = TimeSpan.FromMilliseconds(1500) };
        var config = $$"""
            virtual_server 127.76.0.1 80 {
                delay_loop 0.2
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server {{server.Endpoint.Address}} {{server.Endpoint.Port}} {
                    weight 1
                    TCP_CHECK { connect_timeout 0.5 warmup 0 }
                }
                real_server 127.76.0.9 80 {
                    weight 1
                    TCP_CHECK { connect_timeout 0.5 warmup 0 }
                }
            }
            """;
        await using var harness = EngineHarness.Start(config, options, probes: (global, vs, rs, checker) =>
            rs.Address == "127.76.0.9" ? blocking : ProbeFactory.Create(global, vs, rs, checker, out _));

        var stalled = await harness.WaitForAsync<HealthCheckerStalled>(s => s.Checker.StartsWith("probe-loop-", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "a probe loop reported stalled");
        Assert.Null(stalled.RealServer);
        Assert.True(stalled.SilentFor > TimeSpan.FromMilliseconds(1500), $"silent for {stalled.SilentFor}");
        Assert.Equal(blocking.LoopName, stalled.Checker);

        // The loop comes round again and the blocked checker is probed again, on a loop, at its interval.
        var calls = blocking.Calls;
        await harness.WaitForAsync<ProbeCompleted>(_ => blocking.Calls >= calls + 3, TimeSpan.FromSeconds(15), "three more probes of the blocking checker");
        Assert.Single(harness.Events.OfType<HealthCheckerStalled>(), s => s.Checker == stalled.Checker);
        Assert.All(blocking.Threads, name => Assert.StartsWith("health-probe-loop-", name, StringComparison.Ordinal));
    }

    /// <summary>A probe that says it never blocks and then holds its loop's thread once, as a bug in one would.</summary>
    private sealed class LoopBlockingProbe(TimeSpan block) : IProbe
    {
        private int _calls;

        public string Label => "TCP_CHECK blocking";

        public bool StartsWithoutBlocking => true;

        public int Calls => Volatile.Read(ref _calls);

        public string? LoopName { get; private set; }

        public System.Collections.Concurrent.ConcurrentBag<string> Threads { get; } = [];

        public ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
        {
            var name = Thread.CurrentThread.Name ?? "(unnamed)";
            Threads.Add(name);
            if (Interlocked.Increment(ref _calls) == 2)
            {
                LoopName = name.Replace("health-", "", StringComparison.Ordinal);
                Thread.Sleep(block);
            }

            return ValueTask.FromResult(ProbeOutcome.Up());
        }
    }
}
