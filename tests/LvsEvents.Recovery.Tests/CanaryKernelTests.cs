using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Table;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace LvsEvents.Recovery.Tests;

/// <summary>
/// Canary releases end to end on the real broker: the real <c>lvsctl canary</c> process sends the commands, the real
/// <c>lvs-recovery</c> runs the canary, the real <c>lvs-ipvs-writer</c> programs the nftables table of a network
/// namespace this test creates (<c>lvc-XXXXXX-dir</c>, deleted after), and the weights are read back from the kernel.
/// A stand-in health service probes the new server once per check interval (1 s) and says whether it answered.
/// Old servers weigh 20 and 10, the new one 0: 10 % is 7 against 40/20, 30 % is 13 against 20/10, 50 % 30 against
/// 20/10, 100 % 30 against 0/0.
/// </summary>
public sealed class CanaryKernelTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private readonly string _node = "lvc-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private readonly string _directory = Directory.CreateTempSubdirectory("lvc-canary-").FullName;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly RecoveryProcessTests.Observed _observed = new();
    private readonly List<Process> _processes = [];
    private readonly int _subnet = RandomNumberGenerator.GetInt32(1, 255);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TimeSpan At, Weights Weights, DateTimeOffset Wall)> _kernel = [];
    private readonly ConcurrentQueue<ProbeCompleted> _probes = new();
    private readonly Lock _kernelGate = new();
    private IHost? _health;
    private IKernelTableBackend? _table;
    private Task? _prober;
    private Task? _watcher;
    private volatile bool _failing;
    private readonly Dictionary<string, Process> _servers = [];
    private TimeSpan? _firstFailedProbe;
    private string _config = "";
    private string _broker = "";
    private Process? _recovery;

    private string Namespace => _node + "-dir";
    private string Vip => $"10.76.{_subnet}.100";
    private string Old1 => $"10.77.{_subnet}.11";
    private string Old2 => $"10.77.{_subnet}.12";
    private string New => $"10.77.{_subnet}.13";

    /// <summary>The weights in the kernel of the new server and the two old ones (null: not in the table).</summary>
    public sealed record Weights(int? New, int? Old1, int? Old2)
    {
        public override string ToString() => $"({New?.ToString() ?? "-"}, {Old1?.ToString() ?? "-"}, {Old2?.ToString() ?? "-"})";
    }

    private static readonly Weights Before = new(0, 20, 10);
    private static readonly Weights At10 = new(7, 40, 20);
    private static readonly Weights At30 = new(13, 20, 10);
    private static readonly Weights At50 = new(30, 20, 10);
    private static readonly Weights At100 = new(30, 0, 0);

    public Task InitializeAsync()
    {
        Run("ip", $"netns add {Namespace}");
        Run("ip", $"-n {Namespace} link set lo up");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var task in new[] { _prober, _watcher })
        {
            if (task is not null)
            {
                await task.ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        foreach (var p in _processes)
        {
            if (!p.HasExited)
            {
                p.Kill(true);
                await p.WaitForExitAsync(new CancellationTokenSource(5000).Token);
            }

            p.Dispose();
        }

        if (_health is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _health.StopAsync(stop.Token);
            _health.Dispose();
        }

        (_table as IDisposable)?.Dispose();
        Run("ip", $"netns del {Namespace}");
        lock (_kernelGate)
        {
            output.WriteLine("kernel: " + string.Join(" ", _kernel.Select(k => $"{k.At.TotalSeconds:0.00}s{k.Weights}")));
        }

        foreach (var line in _log)
        {
            output.WriteLine(line);
        }

        _stop.Dispose();
        Directory.Delete(_directory, true);
    }

    [Fact]
    public async Task A_canary_that_succeeds_steps_through_the_shares_in_the_kernel_and_drains_the_old_servers()
    {
        await StartAsync(drainTimeout: "00:00:02");
        var interval = TimeSpan.FromSeconds(4);

        var started = await LvsctlAsync("canary", "start", "--service", $"{Vip}:80", "--server", New, "--steps", "10,30,50,100", "--interval", "4s", "--max-error-rate", "0.05", "--remove-old");
        Assert.True(started.Exit == 0, $"lvsctl canary start: exit {started.Exit}: {started.Output}{started.Error}");
        Assert.Contains("Running", started.Output, StringComparison.Ordinal);
        Assert.Contains("step 1/4 (10%)", started.Output, StringComparison.Ordinal);

        Assert.True(await UntilKernel(w => w == At30, TimeSpan.FromSeconds(15)), "never at 30 %");
        var status = await LvsctlAsync("canary", "status", "--service", $"{Vip}:80");
        Assert.Equal(0, status.Exit);
        // lvsctl takes seconds on a busy machine: the canary may have moved on by the time it answers; whichever step
        // it reports, share and weights must be that step's.
        string[] expected =
        [
            $"step 2/4 (30%), share 30.2%\n  weights: {New}:8080=13 (new), {Old1}:8080=20, {Old2}:8080=10\n  probes this step: ",
            $"step 3/4 (50%), share 50.0%\n  weights: {New}:8080=30 (new), {Old1}:8080=20, {Old2}:8080=10\n  probes this step: ",
            $"step 4/4 (100%), share 100.0%\n  weights: {New}:8080=30 (new), {Old1}:8080=0, {Old2}:8080=0\n  probes this step: ",
        ];
        var completed = $"Completed, new server {New}:8080, step 4/4 (100%), share 100.0%\n  weights: {New}:8080=30 (new), {Old1}:8080=0, {Old2}:8080=0\n";
        Assert.True(expected.Any(e => status.Output.Contains(e, StringComparison.Ordinal)) || status.Output.Contains(completed, StringComparison.Ordinal), status.Output);
        // Right after a step there is no probe yet: "-".
        Assert.Matches(status.Output.Contains("Running", StringComparison.Ordinal) ? @"failed 0, error rate (0\.0%|-) \(max 5\.0%\)" : "complete: 100% held", status.Output);

        // Old servers drained (weight 0, then deleted after the drain timeout), as the article's last ipvsadm -d.
        Assert.True(await UntilKernel(w => w == new Weights(30, null, null), TimeSpan.FromSeconds(30)), "the old servers were never removed");
        var seen = Steps();
        Assert.Equal([Before, At10, At30, At50, At100, new Weights(30, null, null)], seen.Select(s => s.Weights).Where(w => w == Before || w == At10 || w == At30 || w == At50 || w == At100 || w == new Weights(30, null, null)).Distinct());
        foreach (var (from, to) in new[] { (At10, At30), (At30, At50), (At50, At100) })
        {
            var gap = seen.First(s => s.Weights == to).At - seen.First(s => s.Weights == from).At;
            Assert.InRange(gap, interval * 0.7, interval * 2);
        }

        Assert.True(await _observed.WaitAsync(e => e is RecoveryDecision { Action: RecoveryAction.CanaryCompleted }, TimeSpan.FromSeconds(5)), "no completion decision");
        var decisions = _observed.All.Select(o => o.Event).OfType<RecoveryDecision>().Where(d => d.Policy == "canary").ToList();
        Assert.Equal([RecoveryAction.CanaryStarted, RecoveryAction.CanaryStep, RecoveryAction.CanaryStep, RecoveryAction.CanaryStep, RecoveryAction.CanaryCompleted], decisions.Select(d => d.Action));
        Assert.Single(decisions.Select(d => d.CorrelationId).Distinct());
        Assert.Equal(2, _observed.All.Count(o => o.Event is DrainCommand));
        Assert.Contains("Completed", (await LvsctlAsync("canary", "status", "--service", $"{Vip}:80")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_server_that_starts_failing_at_30_percent_is_rolled_back_within_one_check_interval()
    {
        await StartAsync();
        var started = await LvsctlAsync("canary", "start", "--service", $"{Vip}:80", "--server", $"{New}:8080", "--interval", "4s", "--max-error-rate", "0.05");
        Assert.True(started.Exit == 0, $"lvsctl canary start: exit {started.Exit}: {started.Output}{started.Error}");
        Assert.True(await UntilKernel(w => w == At30, TimeSpan.FromSeconds(20)), "never at 30 %");

        var failedFrom = _clock.Elapsed;
        _failing = true;
        Assert.True(await UntilKernel(w => w == Before, TimeSpan.FromSeconds(10)), "never rolled back");
        var rolledBack = Steps().Last(s => s.Weights == Before).At;
        var firstFailure = _firstFailedProbe!.Value;
        output.WriteLine($"first failed probe {(firstFailure - failedFrom).TotalMilliseconds:0} ms after the server started failing; " +
            $"kernel rolled back {(rolledBack - firstFailure).TotalMilliseconds:0} ms after that probe, {(rolledBack - failedFrom).TotalMilliseconds:0} ms after the failure began");
        Assert.True(rolledBack - firstFailure < CheckInterval, $"rolled back {rolledBack - firstFailure} after the failed probe");
        Assert.True(rolledBack - failedFrom < 2 * CheckInterval, $"rolled back {rolledBack - failedFrom} after the failure began");

        var rollback = _observed.All.Select(o => o.Event).OfType<RecoveryDecision>().Single(d => d.Action == RecoveryAction.CanaryRolledBack);
        Assert.Equal(AlertSeverity.Warning, rollback.Alert);
        Assert.Contains("at 30%", rollback.Reason, StringComparison.Ordinal);
        Assert.Contains("Refused", rollback.Reason, StringComparison.Ordinal);
        // It stays rolled back: no further step.
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(Before, Steps()[^1].Weights);
        var status = await LvsctlAsync("canary", "status", "--service", $"{Vip}:80");
        Assert.Contains("RolledBack", status.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_paused_canary_holds_its_share_resume_moves_on_abort_rolls_back()
    {
        await StartAsync();
        // Long enough for a second lvsctl process (a few seconds on a busy machine) to pause it before the next step.
        var interval = TimeSpan.FromSeconds(12);
        var started = await LvsctlAsync("canary", "start", "--service", $"{Vip}:80", "--server", New, "--interval", "12s");
        var due = _clock.Elapsed + interval;
        Assert.True(started.Exit == 0, $"lvsctl canary start: exit {started.Exit}: {started.Output}{started.Error}");
        Assert.True(await UntilKernel(w => w == At10, TimeSpan.FromSeconds(15)), "never at 10 %");

        var paused = await LvsctlAsync("canary", "pause", "--service", $"{Vip}:80");
        Assert.True(paused.Exit == 0, paused.Output + paused.Error);
        Assert.Contains("Paused, new server", paused.Output, StringComparison.Ordinal);
        Assert.Contains("step 1/4 (10%)", paused.Output, StringComparison.Ordinal);
        // Held past when the next step was due.
        await Task.Delay(due - _clock.Elapsed + TimeSpan.FromSeconds(2));
        Assert.Equal(At10, Steps()[^1].Weights);
        Assert.Contains("Paused, new server", (await LvsctlAsync("canary", "status", "--service", $"{Vip}:80")).Output, StringComparison.Ordinal);

        var resumed = await LvsctlAsync("canary", "resume", "--service", $"{Vip}:80");
        Assert.True(resumed.Exit == 0, resumed.Output + resumed.Error);
        var resumedAt = _clock.Elapsed;
        Assert.True(await UntilKernel(w => w == At30, interval + TimeSpan.FromSeconds(8)), "did not move on after resume");
        // The next step an interval after the resume, not at once.
        Assert.True(Steps()[^1].At - resumedAt >= interval * 0.7, $"stepped {Steps()[^1].At - resumedAt} after the resume");

        var aborted = await LvsctlAsync("canary", "abort", "--service", $"{Vip}:80");
        Assert.True(aborted.Exit == 0, aborted.Output + aborted.Error);
        Assert.Contains("Aborted", aborted.Output, StringComparison.Ordinal);
        Assert.True(await UntilKernel(w => w == Before, TimeSpan.FromSeconds(5)), "abort did not roll back");

        // Steering a finished canary is refused, with the state said (exit 1).
        var late = await LvsctlAsync("canary", "pause", "--service", $"{Vip}:80");
        Assert.Equal(1, late.Exit);
        Assert.Contains("cannot pause", late.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restarted_recovery_carries_on_with_the_canary()
    {
        await StartAsync();
        var started = await LvsctlAsync("canary", "start", "--service", $"{Vip}:80", "--server", New, "--steps", "10,30,50,100", "--interval", "3s");
        Assert.True(started.Exit == 0, $"lvsctl canary start: exit {started.Exit}: {started.Output}{started.Error}");
        Assert.True(await UntilKernel(w => w == At30, TimeSpan.FromSeconds(15)), "never at 30 %");

        Assert.Equal(0, Kill(_recovery!.Id, 15));
        using (var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await _recovery.WaitForExitAsync(stopped.Token);
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        StartRecovery("00:00:02");
        Assert.True(await UntilKernel(w => w == At100, TimeSpan.FromSeconds(30)), "the canary did not carry on after the restart");
        Assert.Equal([Before, At10, At30, At50, At100], Steps().Select(s => s.Weights).Where(w => w == Before || w == At10 || w == At30 || w == At50 || w == At100).Distinct());
        Assert.Contains(_log, l => l.Contains("Canary state from", StringComparison.Ordinal) && l.Contains("1 running or paused", StringComparison.Ordinal));
        Assert.Single(_observed.All.Select(o => o.Event).OfType<RecoveryDecision>(), d => d.Action == RecoveryAction.CanaryStarted);
    }

    [Fact]
    public async Task With_the_real_health_checker_a_new_server_that_stops_answering_at_30_percent_is_rolled_back_within_one_check_interval()
    {
        await StartAsync(realHealth: true);
        var started = await LvsctlAsync("canary", "start", "--service", $"{Vip}:80", "--server", New, "--interval", "4s");
        Assert.True(started.Exit == 0, $"lvsctl canary start: exit {started.Exit}: {started.Output}{started.Error}");
        Assert.True(await UntilKernel(w => w == At30, TimeSpan.FromSeconds(25)), "never at 30 %");

        // The new server stops answering: its listener is gone, the checker's next connect is refused.
        var killed = DateTimeOffset.UtcNow;
        _servers[New].Kill();
        static bool RolledBack(Weights w) => w.Old1 == 20 && w.Old2 == 10 && (w.New ?? 0) == 0;
        Assert.True(await UntilKernel(RolledBack, TimeSpan.FromSeconds(10)), "never rolled back");
        var rolledBack = Steps().SkipWhile(s => s.Wall < killed).First(s => RolledBack(s.Weights)).Wall;
        var rollback = _observed.All.Select(o => o.Event).OfType<RecoveryDecision>().Single(d => d.Action == RecoveryAction.CanaryRolledBack);
        for (var i = 0; i < 50 && !_probes.Any(p => p.EventId == rollback.CausationId); i++)
        {
            await Task.Delay(100);
        }

        var failed = Assert.Single(_probes, p => p.EventId == rollback.CausationId);
        output.WriteLine($"real checker: failed probe {(failed.OccurredAt - killed).TotalMilliseconds:0} ms after the listener died; " +
            $"kernel rolled back {(rolledBack - failed.OccurredAt).TotalMilliseconds:0} ms after that probe, {(rolledBack - killed).TotalMilliseconds:0} ms after the death");
        Assert.False(failed.Success);
        Assert.True(rolledBack - failed.OccurredAt < CheckInterval, $"rolled back {rolledBack - failed.OccurredAt} after the failed probe");
        Assert.True(rolledBack - killed < 2 * CheckInterval, $"rolled back {rolledBack - killed} after the server died");
        Assert.Contains("Refused", rollback.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_canary_command_decision_and_status_is_in_the_store()
    {
        await StartAsync();
        // The real recorder: the monitor takes every batch off the bus into the event store.
        Start(RepositoryBuild("services/monitor", "lvs-monitor.dll"), "monitor");
        var started = await LvsctlAsync("canary", "start", "--service", $"{Vip}:80", "--server", New, "--steps", "50,100", "--interval", "2s", "--remove-old");
        Assert.True(started.Exit == 0, $"lvsctl canary start: exit {started.Exit}: {started.Output}{started.Error}");
        Assert.True(await _observed.WaitAsync(e => e is RecoveryDecision { Action: RecoveryAction.CanaryCompleted }, TimeSpan.FromSeconds(30)), "the canary never completed");

        // Read back with lvsctl events, as an operator would: the new server's stream holds the decisions in order.
        var newStream = $"rs:{new RealServerRef(VirtualServiceRef.Tcp(Vip, 80), New, 8080)}";
        var recorded = "";
        for (var attempt = 0; attempt < 20 && !recorded.Contains("CanaryCompleted", StringComparison.Ordinal); attempt++)
        {
            recorded = (await LvsctlAsync("events", "--stream", newStream, "--since", "10m")).Output;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var actions = recorded.Split('\n').Where(l => l.Contains("recovery.decision", StringComparison.Ordinal))
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, "\"action\":\"(\\w+)\"").Groups[1].Value).ToList();
        Assert.Equal(["CanaryStarted", "CanaryStep", "CanaryCompleted"], actions);
        Assert.Equal(2, recorded.Split('\n').Count(l => l.Contains("command.set-weight", StringComparison.Ordinal)));

        var service = (await LvsctlAsync("events", "--stream", $"vs:{VirtualServiceRef.Tcp(Vip, 80)}", "--since", "10m")).Output;
        Assert.Contains("command.canary-start", service, StringComparison.Ordinal);
        Assert.Contains("\"state\":\"Completed\"", service, StringComparison.Ordinal);
        var old = (await LvsctlAsync("events", "--stream", $"rs:{new RealServerRef(VirtualServiceRef.Tcp(Vip, 80), Old1, 8080)}", "--since", "10m")).Output;
        Assert.Contains("command.drain", old, StringComparison.Ordinal);

        // With recovery stopped, status answers from the store: the last recorded status.
        Assert.Equal(0, Kill(_recovery!.Id, 15));
        using (var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await _recovery.WaitForExitAsync(stopped.Token);
        }

        var status = await LvsctlAsync("canary", "status", "--service", $"{Vip}:80", "--wait", "2s");
        Assert.True(status.Exit == 0, status.Output + status.Error);
        Assert.Contains("last recorded status", status.Error, StringComparison.Ordinal);
        Assert.Contains($"Completed, new server {New}:8080, step 2/2 (100%)", status.Output, StringComparison.Ordinal);
    }

    private async Task StartAsync(string drainTimeout = "00:00:02", bool realHealth = false)
    {
        _broker = Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq") is { Length: > 0 } uri
            ? uri
            : throw new InvalidOperationException("ConnectionStrings__rabbitmq is not set: run ./test.sh, or eval \"$(bash scripts/stack.sh env)\".");
        _config = Path.Combine(_directory, "keepalived.conf");
        var check = realHealth ? "TCP_CHECK {\n            connect_timeout 1\n        }" : "";
        await File.WriteAllTextAsync(_config, $$"""
            virtual_server {{Vip}} 80 {
                delay_loop 1
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server {{Old1}} 8080 {
                    weight 20
                    {{check}}
                }
                real_server {{Old2}} 8080 {
                    weight 10
                    {{check}}
                }
                real_server {{New}} 8080 {
                    weight 0
                    {{check}}
                }
            }
            """);
        _health = await StartHealthStandInAsync();
        if (realHealth)
        {
            // Real servers: listeners on their own addresses inside the namespace, checked by the real lvs-health there.
            foreach (var address in (string[])[Old1, Old2, New])
            {
                Run("ip", $"-n {Namespace} addr add {address}/32 dev lo");
                _servers[address] = Start("ip", "rs-" + address, "netns", "exec", Namespace, "socat", $"TCP-LISTEN:8080,bind={address},fork,reuseaddr", "OPEN:/dev/null");
            }

            Start(RepositoryBuild("services/health", "lvs-health.dll"), "health", "--config", _config, "--Health:NetworkNamespace", Namespace);
        }

        var writer = Start("lvs-ipvs-writer.dll", "writer", "--config", _config, "--backend", "nftables", "--IpvsWriter:NetworkNamespace", Namespace, "--IpvsWriter:QueueExpiry", "00:00:30");
        StartRecovery(drainTimeout);
        _table = BackendSelector.Create("nftables", NullLogger.Instance, Namespace);
        _watcher = WatchKernelAsync(_stop.Token);
        Assert.True(await UntilKernel(w => w == Before, TimeSpan.FromSeconds(30)), "the writer never programmed the table");
        await WriterQueueProbe.WaitBoundAsync(_health!.Services.GetRequiredService<IEventEmitter>(), _log, writer);
        if (!realHealth)
        {
            _prober = ProbeAsync(_stop.Token);
        }

        // Until recovery's canary queue is bound, a command has nowhere to go: ask for the status until it answers.
        for (var attempt = 0; attempt < 30; attempt++)
        {
            Assert.False(_recovery!.HasExited, "lvs-recovery exited");
            if ((await LvsctlAsync("canary", "status", "--service", $"{Vip}:80", "--wait", "1s")).Output.Contains("None", StringComparison.Ordinal))
            {
                return;
            }
        }

        Assert.Fail("lvs-recovery never answered a canary status");
    }

    private void StartRecovery(string drainTimeout)
    {
        _recovery = Start("lvs-recovery.dll", "recovery", "--config", _config, "--Recovery:TickInterval", "00:00:00.100", "--Recovery:QueueExpiry", "00:00:30",
            "--Recovery:Canary:DrainTimeout", drainTimeout);
    }

    /// <summary>A health checker with delay_loop 1: one probe of the new server per second, failing once told to.</summary>
    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var emitter = _health!.Services.GetRequiredService<IEventEmitter>();
        using var timer = new PeriodicTimer(CheckInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            var failing = _failing;
            await emitter.EmitAsync(new ProbeCompleted
            {
                EventId = Guid.CreateVersion7(), RealServer = new RealServerRef(VirtualServiceRef.Tcp(Vip, 80), New, 8080), Checker = $"TCP_CHECK {New}:8080",
                Success = !failing, Latency = TimeSpan.FromMilliseconds(1), Error = failing ? ProbeErrorClass.Refused : ProbeErrorClass.None,
                Detail = failing ? "connection refused" : null,
            }, cancellationToken);
            if (failing)
            {
                _firstFailedProbe ??= _clock.Elapsed;
            }
        }
    }

    /// <summary>Reads the table every 50 ms and keeps each change, with when it was seen.</summary>
    private async Task WatchKernelAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var table = await _table!.ReadAsync(cancellationToken);
            var weights = table.Services.Values.SelectMany(s => s.Destinations.Values).ToDictionary(d => d.Key, d => (int?)d.Weight);
            var now = new Weights(weights.GetValueOrDefault(new DestinationKey(New, 8080)), weights.GetValueOrDefault(new DestinationKey(Old1, 8080)), weights.GetValueOrDefault(new DestinationKey(Old2, 8080)));
            lock (_kernelGate)
            {
                if (_kernel.Count == 0 || _kernel[^1].Weights != now)
                {
                    _kernel.Add((_clock.Elapsed, now, DateTimeOffset.UtcNow));
                }
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private List<(TimeSpan At, Weights Weights, DateTimeOffset Wall)> Steps()
    {
        lock (_kernelGate)
        {
            return [.. _kernel];
        }
    }

    private async Task<bool> UntilKernel(Func<Weights, bool> condition, TimeSpan timeout)
    {
        var deadline = _clock.Elapsed + timeout;
        while (_clock.Elapsed < deadline)
        {
            var steps = Steps();
            if (steps.Count > 0 && condition(steps[^1].Weights))
            {
                return true;
            }

            await Task.Delay(25);
        }

        return false;
    }

    private async Task<(int Exit, string Output, string Error)> LvsctlAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(LvsctlPath());
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        if (arguments.Length > 0 && arguments[0] == "canary" && !arguments.Contains("--config"))
        {
            foreach (var a in (string[])["--config", _config, "--node", _node])
            {
                start.ArgumentList.Add(a);
            }
        }

        start.Environment["ConnectionStrings__rabbitmq"] = _broker;
        start.Environment["Eventing__NodeId"] = _node;
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var result = (process.ExitCode, await stdout, await stderr);
        _log.Enqueue($"lvsctl {string.Join(' ', arguments)} → {result.ExitCode}: {result.Item2.Trim()} {result.Item3.Trim()}");
        return result;
    }

    /// <summary>lvsctl as built next to this test (same configuration): the real command line, not its classes.</summary>
    private static string LvsctlPath() => RepositoryBuild("cli/lvsctl", "lvsctl.dll");

    /// <summary>A program of this repository as built in the same configuration as this test (./test.sh builds them all).</summary>
    internal static string RepositoryBuild(string project, string dll)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LvsEvents.sln")))
            {
                var path = Path.Combine(directory.FullName, project, "bin", configuration, "net10.0", dll);
                return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: dotnet build {project} -c {configuration} (./test.sh builds it)");
            }
        }

        throw new InvalidOperationException("no LvsEvents.sln above " + AppContext.BaseDirectory);
    }

    private async Task<IHost> StartHealthStandInAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = _broker,
            ["Eventing:NodeId"] = _node,
            ["Eventing:SpoolDirectory"] = Path.Combine(_directory, "stand-in-spool"),
        });
        builder.Services.AddSingleton(_observed);
        builder.Services.AddSingleton(_probes);
        builder.Services.AddLvsEventing(builder.Configuration, "health", bus =>
        {
            bus.AddConsumer<RecoveryProcessTests.ObserverConsumer>().Endpoint(endpoint =>
            {
                endpoint.Name = "lvc-observer-" + _node;
                endpoint.Temporary = true;
            });
            bus.AddConsumer<ProbeObserver>().Endpoint(endpoint =>
            {
                endpoint.Name = "lvc-probes-" + _node;
                endpoint.Temporary = true;
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var host = builder.Build();
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(start.Token);
        return host;
    }

    private Process Start(string dll, string name, params string[] arguments)
    {
        var start = new ProcessStartInfo(dll.EndsWith(".dll", StringComparison.Ordinal) ? "dotnet" : dll) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (dll.EndsWith(".dll", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(Path.IsPathRooted(dll) ? dll : Path.Combine(AppContext.BaseDirectory, dll));
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = _broker;
        start.Environment["Eventing__NodeId"] = _node;
        start.Environment["Eventing__SpoolDirectory"] = Path.Combine(_directory, name + "-spool");
        start.Environment["Eventing__RunDirectory"] = Directory.CreateDirectory(Path.Combine(_directory, name + "-run")).FullName;
        var process = Process.Start(start)!;
        _processes.Add(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue($"{name}: {e.Data}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue($"{name}: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Run(string file, string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        if (!p.WaitForExit(10_000) || p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments}: {p.StandardError.ReadToEnd()}");
        }
    }

    /// <summary>The real health service's probe results on this test's node.</summary>
    public sealed class ProbeObserver(ConcurrentQueue<ProbeCompleted> probes, ServiceIdentity identity) : IConsumer<EventBatch>
    {
        public Task Consume(ConsumeContext<EventBatch> context)
        {
            if (context.Message.NodeId == identity.NodeId && context.Message.Service == "health")
            {
                foreach (var probe in context.Message.Read().OfType<ProbeCompleted>())
                {
                    probes.Enqueue(probe);
                }
            }

            return Task.CompletedTask;
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
