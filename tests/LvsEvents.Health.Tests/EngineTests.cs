using System.Diagnostics;
using System.Globalization;
using System.Net;
using LvsEvents.Contracts;
using LvsEvents.Health.State;
using Xunit.Abstractions;

namespace LvsEvents.Health.Tests;

/// <summary>The engine end to end: real servers on loopback, real sockets, events read back from a real spool.</summary>
public class EngineTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static string Vs(string body, string extra = "") => $$"""
        virtual_server 127.76.0.1 80 {
            delay_loop 0.4
            lb_algo rr
            lb_kind NAT
            protocol TCP
            {{extra}}
            {{body}}
        }
        """;

    private static string Rs(IPEndPoint at, string checker, string extra = "") => $$"""
            real_server {{at.Address}} {{at.Port}} {
                weight 1
                {{extra}}
                {{checker}}
            }
        """;

    private static RealServerRef Ref(IPEndPoint at) => new(VirtualServiceRef.Tcp("127.76.0.1", 80), at.Address.ToString(), at.Port);

    [Fact]
    public async Task Death_to_health_changed_stays_within_keepalived_s_bound_and_names_the_failed_probes()
    {
        await using var server = new TestHttpServer();
        const string checker = """
            HTTP_GET {
                url { path /health status_code 200 }
                connect_timeout 0.3
                retry 2
                delay_before_retry 0.2
            }
            """;
        await using var harness = EngineHarness.Start(Vs(Rs(server.Endpoint, checker)));
        var rs = Ref(server.Endpoint);
        await harness.WaitForAsync<ProbeCompleted>(p => p.RealServer == rs && p.Success, Wait, "a first good probe");

        // The worst case: the server wedges (accepts, never answers), so every attempt runs into connect_timeout.
        var bound = new CheckerTiming(TimeSpan.FromSeconds(0.4), TimeSpan.FromSeconds(0.3), 2, TimeSpan.FromSeconds(0.2), TimeSpan.Zero).DetectionBound;
        var died = Stopwatch.StartNew();
        server.Hang = true;
        var down = await harness.WaitForAsync<RealServerHealthChanged>(c => c.RealServer == rs && c.To == HealthState.Down, Wait, "the down transition");
        var measured = died.Elapsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"death -> health-changed: {measured.TotalMilliseconds:F0} ms; bound connect_timeout x (retry+1) + delay_before_retry x retry + delay_loop = {bound.TotalMilliseconds:F0} ms"));

        // The event's own trip (fsync into the spool, read back) and timer and thread-pool delays come on top of
        // keepalived's bound; a few ms on a quiet machine, tens on a 2-core one shared with builds. Allow 10 %.
        Assert.True(measured <= bound * 1.1, $"{measured} > {bound} + 10 %");
        Assert.Equal(HealthState.Up, down.From);
        Assert.Equal(3, down.CausingProbes.Count);
        var failed = harness.Events.OfType<ProbeCompleted>().Where(p => down.CausingProbes.Contains(p.EventId)).ToList();
        Assert.Equal(3, failed.Count);
        Assert.All(failed, p => Assert.Equal((false, ProbeErrorClass.Timeout), (p.Success, p.Error)));

        server.Hang = false;
        var up = await harness.WaitForAsync<RealServerHealthChanged>(c => c.RealServer == rs && c.To == HealthState.Up, Wait, "the up transition");
        Assert.Single(up.CausingProbes);
    }

    [Fact]
    public async Task Every_probe_result_is_an_event_with_its_error_class()
    {
        var closed = Loopback.ClosedTcpPort();
        await using var harness = EngineHarness.Start(Vs(Rs(closed, "TCP_CHECK { connect_timeout 0.3 retry 1 delay_before_retry 0.1 }")));
        var rs = Ref(closed);
        var down = await harness.WaitForAsync<RealServerHealthChanged>(c => c.RealServer == rs && c.To == HealthState.Down, Wait, "down");
        var probes = harness.Events.OfType<ProbeCompleted>().Where(p => p.RealServer == rs).ToList();
        Assert.True(probes.Count >= 2);
        Assert.All(probes, p => Assert.Equal(ProbeErrorClass.Refused, p.Error));
        Assert.StartsWith("TCP_CHECK ", probes[0].Checker, StringComparison.Ordinal);
        Assert.Equal(probes.Take(2).Select(p => p.EventId), down.CausingProbes);
    }

    [Fact]
    public async Task Inhibit_on_failure_gives_weight_zero_and_restores_it()
    {
        await using var server = new TestHttpServer();
        var checker = "TCP_CHECK { connect_timeout 0.3 retry 0 }";
        await using var harness = EngineHarness.Start(Vs(Rs(server.Endpoint, checker, "weight 5\n inhibit_on_failure")));
        var rs = Ref(server.Endpoint);
        await harness.WaitForAsync<ProbeCompleted>(p => p.RealServer == rs && p.Success, Wait, "a good probe");

        server.Stop();
        var zero = await harness.WaitForAsync<RealServerWeightChanged>(w => w.RealServer == rs && w.NewWeight == 0, Wait, "weight 0");
        Assert.Equal((5, WeightChangeCause.Health), (zero.OldWeight, zero.Cause));
        server.Restart();
        await harness.WaitForAsync<RealServerWeightChanged>(w => w.RealServer == rs && w.OldWeight == 0 && w.NewWeight == 5, Wait, "weight restored");
    }

    [Fact]
    public async Task Misc_dynamic_sets_the_weight_from_the_exit_code()
    {
        var exitFile = Path.Combine(Path.GetTempPath(), $"lvs-health-exit-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(exitFile, "12");
        try
        {
            var at = new IPEndPoint(Loopback.NewAddress(), 80);
            var checker = $$"""
                MISC_CHECK {
                    misc_path "/bin/sh -c 'exit $(cat {{exitFile}})'"
                    misc_timeout 2
                    misc_dynamic
                }
                """;
            await using var harness = EngineHarness.Start(Vs(Rs(at, checker)));
            var rs = Ref(at);
            var first = await harness.WaitForAsync<RealServerWeightChanged>(w => w.RealServer == rs, Wait, "the dynamic weight");
            Assert.Equal((1, 10), (first.OldWeight, first.NewWeight));

            await File.WriteAllTextAsync(exitFile, "5");
            await harness.WaitForAsync<RealServerWeightChanged>(w => w.RealServer == rs && w.OldWeight == 10 && w.NewWeight == 3, Wait, "weight 3");

            await File.WriteAllTextAsync(exitFile, "1");
            var down = await harness.WaitForAsync<RealServerHealthChanged>(c => c.RealServer == rs && c.To == HealthState.Down, Wait, "down on exit 1");
            Assert.Contains("ScriptFailed", down.Reason, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(exitFile);
        }
    }

    [Fact]
    public async Task Losing_the_quorum_brings_in_the_sorry_server_and_regaining_it_takes_it_out()
    {
        await using var one = new TestHttpServer();
        await using var two = new TestHttpServer();
        const string checker = "TCP_CHECK { connect_timeout 0.3 retry 0 }";
        var config = Vs(Rs(one.Endpoint, checker) + Rs(two.Endpoint, checker), "quorum 2\n hysteresis 0\n sorry_server 127.76.0.99 80");
        await using var harness = EngineHarness.Start(config);
        await harness.WaitForAsync<ProbeCompleted>(p => p.RealServer == Ref(two.Endpoint) && p.Success, Wait, "a good probe");
        Assert.Empty(harness.Events.OfType<VirtualServiceQuorumChanged>());

        two.Stop();
        var lost = await harness.WaitForAsync<VirtualServiceQuorumChanged>(q => !q.Up, Wait, "quorum lost");
        Assert.Equal((1, 2, true), (lost.LiveWeight, lost.Quorum, lost.SorryServerActive));

        two.Restart();
        var regained = await harness.WaitForAsync<VirtualServiceQuorumChanged>(q => q.Up, Wait, "quorum regained");
        Assert.Equal((2, false), (regained.LiveWeight, regained.SorryServerActive));
    }

    [Fact]
    public async Task Alpha_starts_down_with_the_sorry_server_and_comes_up_on_the_first_success()
    {
        await using var server = new TestHttpServer();
        var config = Vs(Rs(server.Endpoint, "TCP_CHECK { connect_timeout 0.3 }"), "alpha\n sorry_server 127.76.0.99 80");
        await using var harness = EngineHarness.Start(config);
        var rs = Ref(server.Endpoint);
        var atStart = await harness.WaitForAsync<VirtualServiceQuorumChanged>(q => !q.Up, Wait, "the initial quorum state");
        Assert.True(atStart.SorryServerActive);
        var up = await harness.WaitForAsync<RealServerHealthChanged>(c => c.RealServer == rs, Wait, "the first transition");
        Assert.Equal((HealthState.Down, HealthState.Up), (up.From, up.To));
        await harness.WaitForAsync<VirtualServiceQuorumChanged>(q => q.Up, Wait, "the quorum");
    }

    [Fact]
    public async Task A_snapshot_carries_every_real_server_of_every_virtual_service()
    {
        await using var up = new TestHttpServer();
        var down = Loopback.ClosedTcpPort();
        const string checker = "TCP_CHECK { connect_timeout 0.3 retry 0 }";
        await using var harness = EngineHarness.Start(Vs(Rs(up.Endpoint, checker) + Rs(down, checker)));
        await harness.WaitForAsync<RealServerHealthChanged>(c => c.RealServer == Ref(down), Wait, "the closed port down");

        harness.Engine.PostSnapshot();
        var snapshot = await harness.WaitForAsync<VirtualServiceHealthSnapshot>(_ => true, Wait, "a snapshot");
        Assert.Equal(1, snapshot.VirtualServiceCount);
        Assert.Equal(
            [($"{up.Endpoint}", HealthState.Up), ($"{down}", HealthState.Down)],
            snapshot.RealServers.Select(r => (r.Endpoint, r.State)));
    }

    [Fact]
    public async Task Snapshots_are_sent_periodically()
    {
        await using var server = new TestHttpServer();
        var options = new HealthOptions { SnapshotInterval = TimeSpan.FromMilliseconds(300) };
        await using var harness = EngineHarness.Start(Vs(Rs(server.Endpoint, "TCP_CHECK { connect_timeout 0.3 }")), options);
        await harness.WaitForAsync<VirtualServiceHealthSnapshot>(_ => harness.Events.OfType<VirtualServiceHealthSnapshot>().Select(s => s.SnapshotId).Distinct().Count() >= 2, Wait, "two snapshot rounds");
    }

    [Fact]
    public async Task Watchdog_reports_silent_checkers_and_a_stalled_scheduler_once()
    {
        await using var server = new TestHttpServer();
        await using var harness = EngineHarness.Start(Vs(Rs(server.Endpoint, "TCP_CHECK { connect_timeout 0.3 }")));
        await harness.WaitForAsync<ProbeCompleted>(p => p.Success, Wait, "a good probe");

        Assert.Empty(harness.Engine.Watchdog.Inspect(harness.Engine.Now()));
        var later = harness.Engine.Now() + TimeSpan.FromMinutes(5);
        var findings = harness.Engine.Watchdog.Inspect(later);
        Assert.Contains(findings, f => f.Checker == "scheduler" && f.RealServer is null);
        Assert.Contains(findings, f => f.RealServer == Ref(server.Endpoint) && f.Expected == TimeSpan.FromSeconds(1.3)); // delay_before_retry 1 s + connect_timeout
        Assert.Empty(harness.Engine.Watchdog.Inspect(later));
    }

    [Fact]
    public async Task A_reload_keeps_the_state_of_checkers_that_are_still_there()
    {
        await using var server = new TestHttpServer();
        var dead = Loopback.ClosedTcpPort();
        const string checker = "TCP_CHECK { connect_timeout 0.3 retry 0 }";
        var config = Vs(Rs(server.Endpoint, checker) + Rs(dead, checker), "quorum 2\n sorry_server 127.76.0.99 80");
        HealthEngine before;
        await using (var first = EngineHarness.Start(config))
        {
            await first.WaitForAsync<VirtualServiceQuorumChanged>(q => !q.Up, Wait, "quorum lost");
            before = first.Engine;
        }

        await using var second = EngineHarness.Start(config, previous: before);
        var deadServer = second.Engine.Services[0].RealServers.Single(r => r.Ref == Ref(dead));
        Assert.Equal(HealthState.Down, deadServer.Health.State);
        Assert.False(second.Engine.Services[0].Quorum.IsUp);
        await second.WaitForAsync<ProbeCompleted>(p => p.RealServer == Ref(dead), Wait, "a probe of the dead server");
        await Task.Delay(300);
        Assert.Empty(second.Events.OfType<RealServerHealthChanged>());
        Assert.Empty(second.Events.OfType<VirtualServiceQuorumChanged>());
    }

    [Fact]
    public async Task First_probes_are_spread_over_the_warmup()
    {
        await using var server = new HangingTcpServer();
        var servers = string.Concat(Enumerable.Range(0, 100).Select(i =>
            Rs(new IPEndPoint(Loopback.NewAddress(), server.Endpoint.Port), $"TCP_CHECK {{\n connect_ip {server.Endpoint.Address}\n connect_timeout 1\n warmup 1\n }}")));
        var before = TimeSpan.Zero;
        await using var harness = EngineHarness.Start(Vs(servers).Replace("delay_loop 0.4", "delay_loop 30", StringComparison.Ordinal));

        // The first due times, as the engine scheduled them at start (a probe already done is due 30 s later).
        // One read of every due time: a probe finishing between two reads would be counted twice.
        var due = harness.Engine.Checkers.Select(c => c.DueAt).ToList();
        var firstDue = due.Where(d => d < TimeSpan.FromSeconds(20)).ToList();
        var done = due.Count(d => d >= TimeSpan.FromSeconds(20));
        Assert.Equal(100, firstDue.Count + done);
        Assert.True(firstDue.Count >= 80, $"only {firstDue.Count} first probes still pending");
        Assert.All(firstDue, d => Assert.InRange(d, before, TimeSpan.FromSeconds(1.1)));
        // Not all at once: uniform over the warmup, no tenth of it holds more than 30 of them.
        var busiest = firstDue.GroupBy(d => (int)(d.TotalMilliseconds / 100)).Max(g => g.Count());
        Assert.True(busiest <= 30, $"{busiest} first probes in one tenth of the warmup");
        await harness.WaitForAsync<ProbeCompleted>(_ => harness.Events.OfType<ProbeCompleted>().Count() >= 100, Wait, "100 first probes");
    }

    [Fact]
    public async Task A_checker_frozen_in_a_probe_is_reported_as_stalled_by_the_watchdog_thread()
    {
        // Every real checker honours its time limit, so a freeze (keepalived #2523) needs a probe that ignores it.
        await using var server = new TestHttpServer();
        var frozen = new IPEndPoint(Loopback.NewAddress(), 80);
        var options = new HealthOptions { WatchdogInterval = TimeSpan.FromMilliseconds(100), StallFactor = 2 };
        var config = Vs(Rs(server.Endpoint, "TCP_CHECK {\n connect_timeout 0.2\n warmup 0\n delay_before_retry 0.2\n }")
            + Rs(frozen, "TCP_CHECK {\n connect_timeout 0.2\n warmup 0\n delay_before_retry 0.2\n }"));
        await using var harness = EngineHarness.Start(config, options, probes: (global, vs, rs, checker) =>
            rs.Address == frozen.Address.ToString() ? new FrozenProbe() : Checking.ProbeFactory.Create(global, vs, rs, checker, out _));

        var stalled = await harness.WaitForAsync<HealthCheckerStalled>(_ => true, Wait, "a stall report");
        Assert.Equal(Ref(frozen), stalled.RealServer);
        Assert.Equal(TimeSpan.FromSeconds(0.6), stalled.Expected); // delay_loop 0.4 + connect_timeout 0.2
        Assert.True(stalled.SilentFor > stalled.Expected);
        await Task.Delay(500);
        Assert.Single(harness.Events.OfType<HealthCheckerStalled>());
        Assert.Contains(harness.Events.OfType<ProbeCompleted>(), p => p.RealServer == Ref(server.Endpoint));
    }

    private sealed class FrozenProbe : Checking.IProbe
    {
        public string Label => "TCP_CHECK frozen";

        public async ValueTask<Checking.ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return Checking.ProbeOutcome.Up();
        }
    }

    [Fact]
    public async Task Notify_and_quorum_scripts_run_on_transitions_and_omega_runs_the_down_ones_at_shutdown()
    {
        var log = Path.Combine(Path.GetTempPath(), $"lvs-health-notify-{Guid.NewGuid():N}");
        try
        {
            await using var server = new TestHttpServer();
            var scripts = $$"""
                notify_up "echo rs-up >> {{log}}"
                notify_down "echo rs-down >> {{log}}"
                """;
            var config = Vs(
                Rs(server.Endpoint, "TCP_CHECK {\n connect_timeout 0.3\n retry 0\n }", scripts),
                $$"""
                omega
                quorum_up "echo quorum-up >> {{log}}"
                quorum_down "echo quorum-down >> {{log}}"
                """);
            await using var harness = EngineHarness.Start(config);
            var rs = Ref(server.Endpoint);
            await harness.WaitForAsync<ProbeCompleted>(p => p.Success, Wait, "a good probe");

            server.Stop();
            await harness.WaitForAsync<VirtualServiceQuorumChanged>(q => !q.Up, Wait, "quorum lost");
            await WaitForLinesAsync(log, ["rs-down", "quorum-down"]);
            server.Restart();
            await harness.WaitForAsync<VirtualServiceQuorumChanged>(q => q.Up, Wait, "quorum regained");
            await WaitForLinesAsync(log, ["rs-down", "quorum-down", "rs-up", "quorum-up"]);

            await harness.Engine.RunShutdownNotifiersAsync(TimeSpan.FromSeconds(10));
            // omega: the live server's notify_down and the quorum_down once more.
            Assert.Equal(["quorum-down", "quorum-down", "quorum-up", "rs-down", "rs-down", "rs-up"], (await File.ReadAllLinesAsync(log)).Order());
        }
        finally
        {
            File.Delete(log);
        }
    }

    private static async Task WaitForLinesAsync(string file, string[] expected)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var lines = File.Exists(file) ? await File.ReadAllLinesAsync(file) : [];
            if (expected.Order().SequenceEqual(lines.Order()))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"script lines {string.Join(",", lines)}, expected {string.Join(",", expected)}");
            await Task.Delay(50);
        }
    }
}
