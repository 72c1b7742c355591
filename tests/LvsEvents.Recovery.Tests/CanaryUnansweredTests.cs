using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
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
/// The canary watching the kernel, end to end: real client traffic through the VIP of a lab in network namespaces
/// (<see cref="CanaryTrafficLab"/>), the real <c>lvs-ipvs-writer</c> (nftables, statistics every second from conntrack),
/// the real <c>lvs-health</c> (TCP_CHECK, <c>delay_loop 1</c>), the real <c>lvs-recovery</c> and the real
/// <c>lvsctl canary</c>, on the real broker. The new server passes its health check throughout, but from the 30 % step
/// on it drops what the clients send it (a firewall rule in its namespace that the checker, on the director's address,
/// does not hit): the kernel statistics show its connections unanswered and the canary is rolled back.
/// Old servers weigh 20 and 10, the new one 0: 10 % is 7 against 40/20, 30 % is 13 against 20/10.
/// </summary>
public sealed class CanaryUnansweredTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan StepInterval = TimeSpan.FromSeconds(8);
    private readonly CanaryTrafficLab _lab = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("lvk-canary-").FullName;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly ConcurrentQueue<(LvsEvent Event, DateTimeOffset Seen)> _events = new();
    private readonly List<Process> _processes = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(DateTimeOffset At, Weights Weights)> _kernel = [];
    private readonly Lock _kernelGate = new();
    private IHost? _observer;
    private IKernelTableBackend? _table;
    private Task? _watcher;
    private ClientTraffic? _clients;
    private string _config = "";
    private string _broker = "";

    private string Node => _lab.Id;
    private string Old1 => _lab.RealServer(1);
    private string Old2 => _lab.RealServer(2);
    private string New => _lab.RealServer(3);
    private RealServerRef NewServer => new(VirtualServiceRef.Tcp(_lab.Vip, 80), New, 8080);

    /// <summary>The weights in the kernel of the new server and the two old ones (null: not in the table).</summary>
    public sealed record Weights(int? New, int? Old1, int? Old2)
    {
        public override string ToString() => $"({New?.ToString(CultureInfo.InvariantCulture) ?? "-"}, {Old1?.ToString(CultureInfo.InvariantCulture) ?? "-"}, {Old2?.ToString(CultureInfo.InvariantCulture) ?? "-"})";
    }

    private static readonly Weights Before = new(0, 20, 10);
    private static readonly Weights At10 = new(7, 40, 20);
    private static readonly Weights At30 = new(13, 20, 10);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _clients?.Dispose();
        await _stop.CancelAsync();
        if (_watcher is not null)
        {
            await _watcher.ContinueWith(_ => { }, TaskScheduler.Default);
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

        if (_observer is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _observer.StopAsync(stop.Token);
            _observer.Dispose();
        }

        (_table as IDisposable)?.Dispose();
        _lab.Dispose();
        lock (_kernelGate)
        {
            output.WriteLine("kernel: " + string.Join(" ", _kernel.Select(k => $"{k.At:HH:mm:ss.ff}{k.Weights}")));
        }

        if (_clients is not null)
        {
            var outcomes = _clients.Outcomes;
            output.WriteLine($"clients: {outcomes.Count} connections, {outcomes.Count(o => !o.Answered)} unanswered; first failures: " +
                string.Join(", ", outcomes.Where(o => !o.Answered).Take(10).Select(o => $"{o.Started:HH:mm:ss.ff}→{o.At:HH:mm:ss.ff} {o.Error}")));
        }

        // What the kernel reported of the new server, poll by poll: new/unanswered.
        output.WriteLine("kernel.statistics of the new server (new/unanswered): " + string.Join(" ", _events.Select(e => e.Event).OfType<KernelStatisticsReported>()
            .Select(k => (k.OccurredAt, Server: k.Services.SelectMany(s => s.RealServers).FirstOrDefault(d => d.Address == New)))
            .Where(k => k.Server is { NewConnections: > 0 } or { UnansweredConnections: > 0 })
            .Select(k => $"{k.OccurredAt:HH:mm:ss.ff}:{k.Server!.NewConnections}/{k.Server.UnansweredConnections}")));
        foreach (var line in _log)
        {
            output.WriteLine(line);
        }

        _stop.Dispose();
        Directory.Delete(_directory, true);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_new_server_that_passes_its_health_check_but_leaves_client_connections_unanswered_is_rolled_back_from_the_kernel_statistics()
    {
        await StartAsync();
        // 40 new connections a second through the VIP, for as long as the test runs.
        _clients = new ClientTraffic(_lab.Client, _lab.Vip, 80, TimeSpan.FromMilliseconds(25));
        var started = await LvsctlAsync("canary", "start", "--service", $"{_lab.Vip}:80", "--server", New, "--steps", "10,30,50,100",
            "--interval", $"{StepInterval.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s", "--max-error-rate", "0.05");
        Assert.True(started.Exit == 0, $"lvsctl canary start: exit {started.Exit}: {started.Output}{started.Error}");
        Assert.True(await UntilKernel(w => w == At30, StepInterval * 3), "never at 30 %");

        // Up to here the new server answered everyone, and the kernel's share for it at 10 % was about its weight's.
        var answered = _clients.Outcomes;
        Assert.True(answered.Count > 100, $"only {answered.Count} client connections");
        Assert.True(answered.All(o => o.Answered), $"{answered.Count(o => !o.Answered)} of {answered.Count} connections unanswered before the new server dropped any: " +
            string.Join(", ", answered.Where(o => !o.Answered).Take(5).Select(o => $"{o.Started:HH:mm:ss.ff}→{o.At:HH:mm:ss.ff} {o.Error}")));
        Assert.True(_lab.Accepted(3) > 0, "the new server accepted nothing at 10 %");
        var step = await DecisionAsync(d => d.Action == RecoveryAction.CanaryStep && d.Reason.Contains("at 30% of the service's weight", StringComparison.Ordinal));
        output.WriteLine("30 % step: " + step.Reason);
        var kernel = Regex.Match(step.Reason, @"kernel at 10%: [0-9.:]+ got (\d+) of (\d+) new connections \(([0-9.]+)%; weight share 10\.4%\), 0 unanswered$");
        Assert.True(kernel.Success, step.Reason);
        Assert.True(int.Parse(kernel.Groups[2].Value, CultureInfo.InvariantCulture) >= 50, step.Reason);
        Assert.InRange(double.Parse(kernel.Groups[3].Value, CultureInfo.InvariantCulture), 2.0, 25.0);

        // From now on the new server drops what the clients send it; its health checker still gets in.
        var dropped = DateTimeOffset.UtcNow;
        _lab.DropClients(3, 8080);
        static bool RolledBack(Weights w) => w.Old1 == 20 && w.Old2 == 10 && (w.New ?? 0) == 0;
        Assert.True(await UntilKernel(RolledBack, TimeSpan.FromSeconds(20)), "never rolled back");
        var rolledBack = Steps().SkipWhile(s => s.At < dropped).First(s => RolledBack(s.Weights)).At;

        var rollback = await DecisionAsync(d => d.Action == RecoveryAction.CanaryRolledBack);
        output.WriteLine("rollback: " + rollback.Reason);
        output.WriteLine($"kernel rolled back {(rolledBack - dropped).TotalMilliseconds:0} ms after the new server began dropping client traffic");
        Assert.Equal(AlertSeverity.Warning, rollback.Alert);
        Assert.Matches($@"^{Regex.Escape(New)}:8080 left (\d+) of (\d+) new connections unanswered at the (30|50)% step \([0-9.]+% > max 5\.0%; kernel\.statistics of {Node}\): rolled back$", rollback.Reason);
        // Caused by the statistics poll that showed it, correlated with the start command.
        var cause = Assert.IsType<KernelStatisticsReported>(_events.Select(e => e.Event).SingleOrDefault(e => e.EventId == rollback.CausationId));
        Assert.Equal("nftables", cause.Backend);
        var seen = cause.Services.Single(s => s.VirtualService == VirtualServiceRef.Tcp(_lab.Vip, 80)).RealServers.Single(d => d.Address == New);
        Assert.True(seen.UnansweredConnections > 0, $"the causing poll shows {seen.UnansweredConnections} unanswered");
        var start = _events.Select(e => e.Event).OfType<CanaryStartCommand>().Single();
        Assert.Equal(start.EventId, rollback.CorrelationId);
        Assert.True(rolledBack - dropped < TimeSpan.FromSeconds(10), $"rolled back {rolledBack - dropped} after the drop began");

        // Health stayed up all along: the checker's connections got in, every probe of the new server succeeded.
        Assert.DoesNotContain(_events.Select(e => e.Event), e => e is RealServerHealthChanged { To: HealthState.Down });
        List<ProbeCompleted> Probes() => [.. _events.Select(e => e.Event).OfType<ProbeCompleted>().Where(p => p.RealServer == NewServer)];
        Assert.True(await UntilAsync(() => Probes().Any(p => p.OccurredAt > dropped), TimeSpan.FromSeconds(5)), "no probe of the new server after the drop");
        Assert.All(Probes(), p => Assert.True(p.Success, $"probe of the new server failed: {p.Error} {p.Detail}"));
        // The clients did see it: connections landing on the new server timed out (each after its 3 s).
        Assert.True(await UntilAsync(() => _clients.Outcomes.Any(o => !o.Answered && o.Started > dropped), ClientTraffic.Timeout + TimeSpan.FromSeconds(3)),
            "no client connection went unanswered");

        // It stays rolled back: no further step, the old servers at their configured weights.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(RolledBack(Steps()[^1].Weights), $"kernel now {Steps()[^1].Weights}");
        Assert.Contains("RolledBack", (await LvsctlAsync("canary", "status", "--service", $"{_lab.Vip}:80")).Output, StringComparison.Ordinal);
    }

    private async Task StartAsync()
    {
        _broker = Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq") is { Length: > 0 } uri
            ? uri
            : throw new InvalidOperationException("ConnectionStrings__rabbitmq is not set: run ./test.sh, or eval \"$(bash scripts/stack.sh env)\".");
        _config = Path.Combine(_directory, "keepalived.conf");
        const string check = "TCP_CHECK {\n            connect_timeout 1\n        }";
        await File.WriteAllTextAsync(_config, $$"""
            virtual_server {{_lab.Vip}} 80 {
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
        _observer = await StartObserverAsync();
        Start(CanaryKernelTests.RepositoryBuild("services/health", "lvs-health.dll"), "health", "--config", _config, "--Health:NetworkNamespace", _lab.Director);
        var writer = Start("lvs-ipvs-writer.dll", "writer", "--config", _config, "--backend", "nftables", "--IpvsWriter:NetworkNamespace", _lab.Director,
            "--IpvsWriter:QueueExpiry", "00:00:30", "--IpvsWriter:StatisticsInterval", "00:00:01");
        Start("lvs-recovery.dll", "recovery", "--config", _config, "--Recovery:TickInterval", "00:00:00.100", "--Recovery:QueueExpiry", "00:00:30",
            "--Recovery:Canary:MinimumConnections", "20");
        _table = BackendSelector.Create("nftables", NullLogger.Instance, _lab.Director);
        _watcher = WatchKernelAsync(_stop.Token);
        Assert.True(await UntilKernel(w => w == Before, TimeSpan.FromSeconds(60)), "the writer never programmed the table");
        await WriterQueueProbe.WaitBoundAsync(_observer.Services.GetRequiredService<IEventEmitter>(), _log, writer);
        // The new server is health-checked and up before it gets any traffic.
        Assert.True(await UntilAsync(() => _events.Any(e => e.Event is ProbeCompleted { Success: true } p && p.RealServer == NewServer), TimeSpan.FromSeconds(30)),
            "the health checker never reached the new server");

        // Until recovery's canary queue is bound, a command has nowhere to go: ask for the status until it answers.
        for (var attempt = 0; attempt < 30; attempt++)
        {
            Assert.DoesNotContain(_processes, p => p.HasExited);
            if ((await LvsctlAsync("canary", "status", "--service", $"{_lab.Vip}:80", "--wait", "1s")).Output.Contains("None", StringComparison.Ordinal))
            {
                return;
            }
        }

        Assert.Fail("lvs-recovery never answered a canary status");
    }

    private async Task<RecoveryDecision> DecisionAsync(Func<RecoveryDecision, bool> match)
    {
        RecoveryDecision? Find() => _events.Select(e => e.Event).OfType<RecoveryDecision>().FirstOrDefault(d => d.Policy == "canary" && match(d));
        Assert.True(await UntilAsync(() => Find() is not null, TimeSpan.FromSeconds(10)), "no such decision on the bus");
        return Find()!;
    }

    private static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }

    /// <summary>Reads the table every 100 ms and keeps each change, with when it was seen.</summary>
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
                    _kernel.Add((DateTimeOffset.UtcNow, now));
                }
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private List<(DateTimeOffset At, Weights Weights)> Steps()
    {
        lock (_kernelGate)
        {
            return [.. _kernel];
        }
    }

    private async Task<bool> UntilKernel(Func<Weights, bool> condition, TimeSpan timeout) =>
        await UntilAsync(() => Steps() is { Count: > 0 } steps && condition(steps[^1].Weights), timeout);

    private async Task<(int Exit, string Output, string Error)> LvsctlAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(CanaryKernelTests.RepositoryBuild("cli/lvsctl", "lvsctl.dll"));
        foreach (var a in (string[])[.. arguments, "--config", _config, "--node", Node])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = _broker;
        start.Environment["Eventing__NodeId"] = Node;
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var result = (process.ExitCode, await stdout, await stderr);
        _log.Enqueue($"lvsctl {string.Join(' ', arguments)} → {result.ExitCode}: {result.Item2.Trim()} {result.Item3.Trim()}");
        return result;
    }

    /// <summary>Every event of this test's node on the bus (commands, health, kernel statistics, decisions), with when it was seen.</summary>
    private async Task<IHost> StartObserverAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = _broker,
            ["Eventing:NodeId"] = Node,
            ["Eventing:SpoolDirectory"] = Path.Combine(_directory, "observer-spool"),
        });
        builder.Services.AddSingleton(_events);
        builder.Services.AddLvsEventing(builder.Configuration, "test-observer", bus =>
            bus.AddConsumer<NodeObserver>().Endpoint(endpoint =>
            {
                endpoint.Name = "lvk-observer-" + Node;
                endpoint.Temporary = true;
            }));
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var host = builder.Build();
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(start.Token);
        return host;
    }

    private Process Start(string dll, string name, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.IsPathRooted(dll) ? dll : Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = _broker;
        start.Environment["Eventing__NodeId"] = Node;
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

    /// <summary>This test's node's events from every service.</summary>
    public sealed class NodeObserver(ConcurrentQueue<(LvsEvent Event, DateTimeOffset Seen)> events, ServiceIdentity identity) : IConsumer<EventBatch>
    {
        public Task Consume(ConsumeContext<EventBatch> context)
        {
            if (context.Message.NodeId == identity.NodeId)
            {
                foreach (var e in context.Message.Read())
                {
                    events.Enqueue((e, DateTimeOffset.UtcNow));
                }
            }

            return Task.CompletedTask;
        }
    }
}
