using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Recovery.Policy;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace LvsEvents.Recovery.Tests;

/// <summary>
/// The real <c>lvs-recovery</c> process on the real broker. A stand-in health service publishes health changes through
/// its own spool; an observer on a queue of its own sees what recovery publishes: a recovered server's ramp of
/// set-weight commands one interval apart, and a flapping server held out at weight 0, then released.
/// </summary>
public sealed class RecoveryProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly string _node = "lvr-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _directory = Directory.CreateTempSubdirectory("lvr-recovery-").FullName;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly Observed _observed = new();
    private Process? _recovery;
    private IHost? _health;

    private static readonly VirtualServiceRef Service = VirtualServiceRef.Tcp("10.77.0.100", 80);
    private static readonly RealServerRef Web1 = new(Service, "10.77.0.21", 8080);
    private static readonly RealServerRef Web2 = new(Service, "10.77.0.22", 8080);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_recovery is { HasExited: false })
        {
            _recovery.Kill(true);
            await _recovery.WaitForExitAsync(new CancellationTokenSource(5000).Token).ConfigureAwait(false);
        }

        _recovery?.Dispose();
        if (_health is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _health.StopAsync(stop.Token);
            _health.Dispose();
        }

        foreach (var line in _log)
        {
            output.WriteLine(line);
        }

        Directory.Delete(_directory, true);
    }

    [Fact]
    public async Task A_recovered_server_ramps_on_the_bus_at_the_interval_and_a_flapping_server_is_held_out()
    {
        var broker = Broker();
        var config = await WriteConfigAsync();
        _health = await StartHealthStandInAsync(broker);
        StartRecovery(broker, config, interval: "00:00:01");
        var emitter = _health.Services.GetRequiredService<IEventEmitter>();
        await PrimeAsync(emitter);

        // Web1 recovers: 10% (2), 25% (5), 50% (10) one interval apart, then restore (100%).
        var up = Change(Web1, HealthState.Down, HealthState.Up);
        await emitter.EmitAsync(up);
        Assert.True(await _observed.WaitAsync(e => e is RestoreCommand r && r.RealServer == Web1, TimeSpan.FromSeconds(20)), "the ramp never completed");
        var ramp = _observed.Commands(Web1).Skip(1).ToList();
        Assert.Equal(["set-weight 2", "set-weight 5", "set-weight 10", "restore"], ramp.Select(c => c.Event is SetWeightCommand s ? $"set-weight {s.Weight}" : "restore"));
        for (var i = 1; i < ramp.Count; i++)
        {
            // When recovery emitted them (their own time), not when this observer happened to receive them: on a loaded
            // machine a delivery can lag and the next arrive on time (CI saw a 0.49 s gap between 1.00 s steps).
            var gap = ramp[i].Event.OccurredAt - ramp[i - 1].Event.OccurredAt;
            Assert.InRange(gap, Interval * 0.7, Interval * 2.5);
        }

        Assert.All(ramp, c => Assert.Equal(up.EventId, c.Event.CorrelationId));
        var decisions = _observed.All.Select(o => o.Event).OfType<RecoveryDecision>().Where(d => d.RealServer == Web1).ToList();
        Assert.Equal([RecoveryAction.RampStarted, RecoveryAction.RampStep, RecoveryAction.RampStep, RecoveryAction.RampCompleted], decisions.Select(d => d.Action));
        Assert.All(ramp, c => Assert.Contains(decisions, d => d.EventId == c.Event.CausationId));

        // Web2 flaps: four transitions within the window → held out at weight 0 with an alert; up for 2 s → released.
        foreach (var (from, to) in new[] { (HealthState.Up, HealthState.Down), (HealthState.Down, HealthState.Up), (HealthState.Up, HealthState.Down), (HealthState.Down, HealthState.Up) })
        {
            await emitter.EmitAsync(Change(Web2, from, to));
        }

        Assert.True(await _observed.WaitAsync(e => e is RecoveryDecision { Action: RecoveryAction.HeldOut } d && d.RealServer == Web2, TimeSpan.FromSeconds(10)), "the flapping server was not held out");
        var hold = _observed.All.Select(o => o.Event).OfType<RecoveryDecision>().Single(d => d.Action == RecoveryAction.HeldOut);
        Assert.Equal(AlertSeverity.Warning, hold.Alert);
        Assert.Equal(4, hold.CausingEvents.Count);
        Assert.True(await _observed.WaitAsync(e => e is SetWeightCommand { Weight: 0 } c && c.RealServer == Web2 && c.CausationId == hold.EventId, TimeSpan.FromSeconds(5)), "no weight 0 for the held server");
        Assert.True(await _observed.WaitAsync(e => e is RecoveryDecision { Action: RecoveryAction.Released } d && d.RealServer == Web2, TimeSpan.FromSeconds(10)), "the held server was never released");
        var released = _observed.All.Single(o => o.Event is RecoveryDecision { Action: RecoveryAction.Released });
        var held = _observed.All.Single(o => o.Event == hold);
        var stable = released.Event.OccurredAt - held.Event.OccurredAt;
        Assert.True(stable >= TimeSpan.FromSeconds(1.5), $"released after {stable}, before the 2 s stability period");

        // The same health change again changes nothing.
        var before = _observed.All.Count;
        await emitter.EmitAsync(up);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.DoesNotContain(_observed.All.Skip(before), o => o.Event.CorrelationId == up.EventId);

        Assert.Equal(0, Kill(_recovery!.Id, 15));
        using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _recovery.WaitForExitAsync(stopped.Token);
        Assert.Equal(0, _recovery.ExitCode);
    }

    [Fact]
    public async Task A_restarted_recovery_resumes_the_ramp_where_it_stopped_and_ignores_the_event_it_already_acted_on()
    {
        var broker = Broker();
        var config = await WriteConfigAsync();
        _health = await StartHealthStandInAsync(broker);
        StartRecovery(broker, config, interval: "00:00:02");
        var emitter = _health.Services.GetRequiredService<IEventEmitter>();
        await PrimeAsync(emitter);

        var up = Change(Web1, HealthState.Down, HealthState.Up);
        await emitter.EmitAsync(up);
        Assert.True(await _observed.WaitAsync(e => e is SetWeightCommand { Weight: 5 } c && c.RealServer == Web1, TimeSpan.FromSeconds(10)), "no second step");
        Assert.Equal(0, Kill(_recovery!.Id, 15));
        using (var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await _recovery.WaitForExitAsync(stopped.Token);
        }

        Assert.Equal(0, _recovery.ExitCode);
        _recovery.Dispose();
        var stoppedAt = _observed.All.Count;

        // The same health change arrives again while it is away (a redelivery): the restarted service knows it.
        await emitter.EmitAsync(up);
        StartRecovery(broker, config, interval: "00:00:02");
        Assert.True(await _observed.WaitAsync(e => e is RestoreCommand r && r.RealServer == Web1, TimeSpan.FromSeconds(30)), "the ramp never completed after the restart");
        Assert.Equal(["set-weight 2", "set-weight 2", "set-weight 5", "set-weight 10", "restore"],
            _observed.Commands(Web1).Select(c => c.Event is SetWeightCommand s ? $"set-weight {s.Weight}" : "restore"));
        Assert.DoesNotContain(_observed.All.Skip(stoppedAt), o => o.Event is RecoveryDecision { Action: RecoveryAction.RampStarted });
        Assert.Contains(_log, l => l.Contains("Recovery state from", StringComparison.Ordinal) && l.Contains("1 ramps", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_split_brain_on_the_lower_priority_node_is_answered_with_a_yield_decision_and_one_resign_command()
    {
        var broker = Broker();
        var config = await WriteConfigAsync();
        _health = await StartHealthStandInAsync(broker);
        StartRecovery(broker, config, interval: "00:00:01");
        using var vrrp = await StartStandInAsync(broker, "vrrp");
        try
        {
            await SplitBrainAsync(vrrp.Services.GetRequiredService<IEventEmitter>());
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await vrrp.StopAsync(stop.Token);
        }
    }

    private async Task SplitBrainAsync(IEventEmitter emitter)
    {
        var suspected = new SplitBrainSuspected
        {
            EventId = Guid.CreateVersion7(), Instance = "VI_1", VirtualRouterId = 51, PeerAddress = "10.77.0.2", PeerPriority = 100, LocalPriority = 90, IntervalsObserved = 3,
        };
        var answered = false;
        for (var attempt = 0; attempt < 20 && !answered; attempt++)
        {
            Assert.False(_recovery!.HasExited, "lvs-recovery exited:\n" + string.Join('\n', _log));
            await emitter.EmitAsync(suspected);
            answered = await _observed.WaitAsync(e => e is VrrpResignCommand, TimeSpan.FromSeconds(2));
        }

        Assert.True(answered, "no resign command");
        // A second suspicion of the same episode: no second command.
        await emitter.EmitAsync(suspected with { EventId = Guid.CreateVersion7() });
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var decision = Assert.Single(_observed.All.Select(o => o.Event).OfType<RecoveryDecision>());
        Assert.Equal((SplitBrainPolicy.Policy, RecoveryAction.Yield, $"vrrp:{_node}:VI_1"), (decision.Policy, decision.Action, decision.Subject));
        var command = Assert.Single(_observed.All.Select(o => o.Event).OfType<VrrpResignCommand>());
        Assert.Equal((_node, "VI_1", 51, VrrpResignMode.PriorityDrop, suspected.EventId, decision.EventId),
            (command.TargetNode, command.Instance, command.VirtualRouterId, command.Mode, command.CorrelationId, command.CausationId));
    }

    private async Task<IHost> StartStandInAsync(string broker, string service)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = broker,
            ["Eventing:NodeId"] = _node,
            ["Eventing:SpoolDirectory"] = Path.Combine(_directory, service + "-spool"),
        });
        builder.Services.AddLvsEventing(builder.Configuration, service);
        var host = builder.Build();
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(start.Token);
        return host;
    }

    private static string Broker() =>
        Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq") is { Length: > 0 } uri
            ? uri
            : throw new InvalidOperationException("ConnectionStrings__rabbitmq is not set: run ./test.sh, or eval \"$(bash scripts/stack.sh env)\" after scripts/stack.sh start.");

    private async Task<string> WriteConfigAsync()
    {
        var config = Path.Combine(_directory, "keepalived.conf");
        await File.WriteAllTextAsync(config, """
            virtual_server 10.77.0.100 80 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server 10.77.0.21 8080 {
                    weight 20
                }
                real_server 10.77.0.22 8080 {
                    weight 8
                }
            }
            """);
        return config;
    }

    /// <summary>
    /// Web1 goes down. Until recovery's queue exists the event has nowhere to go: publish the same event again (same id:
    /// recovery acts on it once) until its primed first step shows on the bus.
    /// </summary>
    private async Task PrimeAsync(IEventEmitter emitter)
    {
        var down = Change(Web1, HealthState.Up, HealthState.Down);
        var primed = false;
        for (var attempt = 0; attempt < 20 && !primed; attempt++)
        {
            Assert.False(_recovery!.HasExited, "lvs-recovery exited:\n" + string.Join('\n', _log));
            await emitter.EmitAsync(down);
            primed = await _observed.WaitAsync(e => e is SetWeightCommand { Weight: 2 } c && c.RealServer == Web1, TimeSpan.FromSeconds(2));
        }

        Assert.True(primed, "recovery never primed the ramp of the server that went down");
        Assert.Single(_observed.Commands(Web1));
    }

    private RealServerHealthChanged Change(RealServerRef server, HealthState from, HealthState to) => new()
    {
        EventId = Guid.CreateVersion7(),
        RealServer = server,
        From = from,
        To = to,
        Checker = "TCP_CHECK",
        Reason = "test",
    };

    private async Task<IHost> StartHealthStandInAsync(string broker)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = broker,
            ["Eventing:NodeId"] = _node,
            ["Eventing:SpoolDirectory"] = Path.Combine(_directory, "health-spool"),
        });
        builder.Services.AddSingleton(_observed);
        builder.Services.AddLvsEventing(builder.Configuration, "health", bus =>
            bus.AddConsumer<ObserverConsumer>().Endpoint(endpoint =>
            {
                endpoint.Name = "lvr-observer-" + _node;
                endpoint.Temporary = true;
            }));
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var host = builder.Build();
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(start.Token);
        return host;
    }

    private void StartRecovery(string broker, string config, string interval)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "lvs-recovery.dll"), "--config", config,
                     "--Recovery:SlowStart:Steps", "10,25,50,100", "--Recovery:SlowStart:Interval", interval,
                     "--Recovery:TickInterval", "00:00:00.100", "--Recovery:FlapHold:Transitions", "4",
                     "--Recovery:FlapHold:Window", "00:01:00", "--Recovery:FlapHold:Stability", "00:00:02",
                     "--Recovery:QueueExpiry", "00:00:30"])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = broker;
        start.Environment["Eventing__NodeId"] = _node;
        start.Environment["Eventing__SpoolDirectory"] = Path.Combine(_directory, "spool");
        start.Environment["Eventing__RunDirectory"] = _directory;
        _recovery = Process.Start(start)!;
        _recovery.OutputDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _recovery.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _recovery.BeginOutputReadLine();
        _recovery.BeginErrorReadLine();
    }

    /// <summary>What recovery published on this test's node, with when the observer saw it.</summary>
    public sealed class Observed
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<(LvsEvent Event, TimeSpan Seen)> _events = [];
        private readonly HashSet<Guid> _ids = [];
        private readonly Lock _gate = new();

        public IReadOnlyList<(LvsEvent Event, TimeSpan Seen)> All
        {
            get
            {
                lock (_gate)
                {
                    return [.. _events];
                }
            }
        }

        public IReadOnlyList<(LvsEvent Event, TimeSpan Seen)> Commands(RealServerRef server) =>
            [.. All.Where(o => o.Event is SetWeightCommand s && s.RealServer == server || o.Event is RestoreCommand r && r.RealServer == server)];

        /// <summary>
        /// Keeps each event once: delivery is at least once (an event whose publish was confirmed too late, e.g. as the
        /// service stopped, stays in its spool and is sent again from there on restart, with the same id).
        /// </summary>
        public void Add(LvsEvent e)
        {
            lock (_gate)
            {
                if (_ids.Add(e.EventId))
                {
                    _events.Add((e, _clock.Elapsed));
                }
            }
        }

        public async Task<bool> WaitAsync(Func<LvsEvent, bool> match, TimeSpan timeout)
        {
            var deadline = _clock.Elapsed + timeout;
            while (_clock.Elapsed < deadline)
            {
                if (All.Any(o => match(o.Event)))
                {
                    return true;
                }

                await Task.Delay(50);
            }

            return All.Any(o => match(o.Event));
        }
    }

    public sealed class ObserverConsumer(Observed observed, ServiceIdentity identity) : IConsumer<EventBatch>
    {
        public Task Consume(ConsumeContext<EventBatch> context)
        {
            if (context.Message.NodeId == identity.NodeId && context.Message.Service == "recovery")
            {
                foreach (var e in context.Message.Read())
                {
                    observed.Add(e);
                }
            }

            return Task.CompletedTask;
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
