using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.Health.Checking;
using LvsEvents.Health.Reporting;
using LvsEvents.Health.Scheduling;
using LvsEvents.Health.State;
using LvsEvents.Keepalived.Model;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Health;

/// <summary>
/// Checks every real server of one configuration: builds a checker per HealthChecker block, runs them on the
/// <see cref="ProbeScheduler"/>, applies each result to the checker's state machine, the real server and its virtual
/// service's quorum, and posts every probe result and every change as an event. Runs until cancelled.
/// </summary>
public sealed class HealthEngine
{
    private readonly EventOutbox _outbox;
    private readonly NotifyScripts _scripts;
    private readonly TimeProvider _clock;
    private readonly HealthOptions _options;
    private readonly ILogger _logger;
    private readonly long _origin;

    public HealthEngine(
        KeepalivedConfiguration configuration,
        EventOutbox outbox,
        TimeProvider clock,
        HealthOptions options,
        ILogger logger,
        Func<GlobalDefinitions, VirtualServer, RealServer, HealthChecker, IProbe?>? probeFactory = null,
        HealthEngine? previous = null)
    {
        _outbox = outbox;
        _scripts = new NotifyScripts(logger);
        _clock = clock;
        _options = options;
        _logger = logger;
        _origin = clock.GetTimestamp();
        Scheduler = new ProbeScheduler(RunProbeAsync, Now, options.Tick, options.MaxConcurrentProbes, logger);
        Services = Build(configuration, probeFactory ?? CreateProbe, previous);
        Watchdog = new CheckerWatchdog(this, options);
    }

    public IReadOnlyList<MonitoredVirtualService> Services { get; }

    public ProbeScheduler Scheduler { get; }

    public CheckerWatchdog Watchdog { get; }

    public long ProbesSucceeded => Interlocked.Read(ref _succeeded);

    public long ProbesFailed => Interlocked.Read(ref _failed);

    private long _succeeded;
    private long _failed;

    public IEnumerable<CheckRunner> Checkers => Services.SelectMany(s => s.RealServers).SelectMany(r => r.Checkers);

    /// <summary>The engine's monotonic clock: time since it was built.</summary>
    public TimeSpan Now() => _clock.GetElapsedTime(_origin);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // The spool's writer blocks a pool thread in fsync, and on 2 cores the pool starts with 2 workers: without
        // spare workers every fsync stalls the probe completions behind it (hundreds of ms of scheduling lateness).
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < _options.MinThreadPoolThreads)
        {
            ThreadPool.SetMinThreads(_options.MinThreadPoolThreads, io);
        }

        var start = Now();
        foreach (var service in Services)
        {
            if (!service.Quorum.IsUp && !service.CarriedOver)
            {
                // keepalived puts the sorry server in at start-up when the quorum is not met (alpha servers start down).
                PostQuorum(service);
            }

            foreach (var checker in service.RealServers.SelectMany(r => r.Checkers))
            {
                checker.LastActivity = start;
                Scheduler.Schedule(checker, checker.Machine.Start(start, Random.Shared.NextDouble()));
            }
        }

        _logger.LogInformation(
            "Checking {RealServers} real servers of {VirtualServices} virtual services with {Checkers} checkers",
            Services.Sum(s => s.RealServers.Count), Services.Count, Checkers.Count());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watchdog = Watchdog.RunAsync(stop.Token);
        var snapshots = SnapshotLoopAsync(stop.Token);
        try
        {
            await Scheduler.RunAsync(stop.Token).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(watchdog, snapshots).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// keepalived's omega: when the service shuts down (not on a reload), the virtual services with omega run the
    /// notify_down of their live real servers and their quorum_down if they had the quorum. Waits for the scripts, at
    /// most <paramref name="limit"/>.
    /// </summary>
    public async Task RunShutdownNotifiersAsync(TimeSpan limit)
    {
        var scripts = new List<Task>();
        foreach (var service in Services.Where(s => s.Configuration.Omega))
        {
            lock (service.Gate)
            {
                scripts.AddRange(service.RealServers
                    .Where(r => r.Health.State == HealthState.Up)
                    .Select(r => _scripts.Run(r.Configuration.NotifyDown, $"{r.Ref} shutdown (omega)")));
                if (service.Quorum.IsUp)
                {
                    scripts.Add(_scripts.Run(service.Configuration.QuorumDown, $"{service.Ref} shutdown (omega)"));
                }
            }
        }

        try
        {
            await Task.WhenAll(scripts).WaitAsync(limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("Shutdown notify scripts still running after {Limit}", limit);
        }
    }

    /// <summary>Posts one snapshot event per virtual service, all with one snapshot id.</summary>
    public void PostSnapshot()
    {
        var snapshotId = Guid.CreateVersion7();
        foreach (var service in Services)
        {
            lock (service.Gate)
            {
                _outbox.Post(new VirtualServiceHealthSnapshot
                {
                    EventId = Guid.CreateVersion7(),
                    VirtualService = service.Ref,
                    SnapshotId = snapshotId,
                    VirtualServiceCount = Services.Count,
                    QuorumUp = service.Quorum.IsUp,
                    LiveWeight = service.Quorum.LiveWeight,
                    Quorum = service.Quorum.Quorum,
                    Hysteresis = service.Quorum.Hysteresis,
                    SorryServerActive = service.SorryServerActive,
                    RealServers = [.. service.RealServers.Select(r => new RealServerHealthEntry(
                        EndpointFormat.Format(r.Ref.Address, r.Ref.Port), r.Health.State, r.Health.Weight, r.Health.FailedCheckers))],
                });
            }
        }
    }

    private async Task SnapshotLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.SnapshotInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                PostSnapshot();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async ValueTask<TimeSpan> RunProbeAsync(CheckRunner runner, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = await runner.Probe.ProbeAsync(cancellationToken).ConfigureAwait(false);
        var latency = Stopwatch.GetElapsedTime(started);
        return Apply(runner, outcome, latency);
    }

    /// <summary>Applies one probe result: state machine, real server, quorum, events. Returns when to probe next.</summary>
    internal TimeSpan Apply(CheckRunner runner, ProbeOutcome outcome, TimeSpan latency)
    {
        var now = Now();
        var at = _clock.GetUtcNow();
        var probeId = EventIds.NewVersion7(at);
        runner.CountProbe();
        Interlocked.Increment(ref outcome.Success ? ref _succeeded : ref _failed);
        runner.LastActivity = now;
        runner.StallReported = false;
        var decision = runner.Machine.OnProbe(now, outcome.Success, probeId);
        var server = runner.Server;
        _outbox.Post(new ProbeCompleted
        {
            EventId = probeId,
            OccurredAt = at,
            RealServer = server.Ref,
            Checker = runner.Probe.Label,
            Success = outcome.Success,
            Latency = latency,
            Error = outcome.Error,
            Detail = outcome.Detail,
            DynamicWeight = outcome.DynamicWeight,
        });

        if (decision.Transition is null && outcome.DynamicWeight is null)
        {
            return decision.NextProbeAt;
        }

        var service = server.Service;
        lock (service.Gate)
        {
            var change = server.Health.Apply(runner.Index, decision.Transition, outcome.DynamicWeight);
            if (change.StateChanged is { } state)
            {
                var causes = decision.CausingProbes;
                _logger.LogInformation(
                    "Real server {RealServer} is {State} ({Checker}: {Detail})", server.Ref, state, runner.Probe.Label, outcome.Detail);
                _scripts.Run(state == HealthState.Up ? server.Configuration.NotifyUp : server.Configuration.NotifyDown, $"{server.Ref} {state}");
                _outbox.Post(new RealServerHealthChanged
                {
                    EventId = Guid.CreateVersion7(at),
                    OccurredAt = at,
                    RealServer = server.Ref,
                    From = state == HealthState.Up ? HealthState.Down : HealthState.Up,
                    To = state,
                    Checker = runner.Probe.Label,
                    CausingProbes = causes,
                    Reason = outcome.Success ? outcome.Detail : $"{causes.Count} failed probe(s), last: {outcome.Error} {outcome.Detail}",
                    CorrelationId = causes.Count > 0 ? causes[0] : probeId,
                    CausationId = probeId,
                });
            }

            if (change.WeightChanged)
            {
                _outbox.Post(new RealServerWeightChanged
                {
                    EventId = Guid.CreateVersion7(at),
                    OccurredAt = at,
                    RealServer = server.Ref,
                    OldWeight = change.OldWeight,
                    NewWeight = change.NewWeight,
                    Cause = WeightChangeCause.Health,
                    Detail = outcome.DynamicWeight is { } dynamic && change.NewWeight == dynamic ? $"misc_dynamic: {outcome.Detail}" : "inhibit_on_failure",
                    CausationId = probeId,
                });
            }

            if ((change.StateChanged is not null || change.WeightChanged) && service.Quorum.Update(service.LiveWeight()) is not null)
            {
                _logger.LogInformation(
                    "Virtual service {VirtualService} quorum {State}: live weight {LiveWeight}, quorum {Quorum} ± {Hysteresis}",
                    service.Ref, service.Quorum.IsUp ? "gained" : "lost", service.Quorum.LiveWeight, service.Quorum.Quorum, service.Quorum.Hysteresis);
                PostQuorum(service, probeId);
                _scripts.Run(service.Quorum.IsUp ? service.Configuration.QuorumUp : service.Configuration.QuorumDown, $"{service.Ref} quorum");
            }
        }

        return decision.NextProbeAt;
    }

    internal void Post(LvsEvent e) => _outbox.Post(e);

    internal void Log(StallFinding finding) =>
        _logger.LogWarning(
            "Checker {Checker} of {RealServer} silent for {SilentFor} (a result is expected every {Expected} at most)",
            finding.Checker, finding.RealServer?.ToString() ?? "(all)", finding.SilentFor, finding.Expected);

    private void PostQuorum(MonitoredVirtualService service, Guid? cause = null) =>
        _outbox.Post(new VirtualServiceQuorumChanged
        {
            EventId = Guid.CreateVersion7(),
            VirtualService = service.Ref,
            Up = service.Quorum.IsUp,
            LiveWeight = service.Quorum.LiveWeight,
            Quorum = service.Quorum.Quorum,
            Hysteresis = service.Quorum.Hysteresis,
            SorryServerActive = service.SorryServerActive,
            CausationId = cause,
        });

    private IProbe? CreateProbe(GlobalDefinitions global, VirtualServer service, RealServer server, HealthChecker checker)
    {
        var probe = ProbeFactory.Create(global, service, server, checker, out var problem);
        if (probe is null)
        {
            _logger.LogWarning("Not checking {RealServer} of {VirtualServer} with {Checker}: {Problem}", server.Endpoint, service.Key, checker.Keyword, problem);
        }

        return probe;
    }

    /// <summary>
    /// The checkers of <paramref name="configuration"/>. After a reload (<paramref name="previous"/> given), a checker that
    /// is still there with the same timing keeps its state, as do its real server's misc_dynamic weight and its virtual
    /// service's quorum: a reload neither forgets a dead server nor announces changes that did not happen.
    /// </summary>
    private List<MonitoredVirtualService> Build(
        KeepalivedConfiguration configuration, Func<GlobalDefinitions, VirtualServer, RealServer, HealthChecker, IProbe?> probeFactory, HealthEngine? previous)
    {
        var oldCheckers = previous?.Checkers.ToDictionary(c => (c.Server.Ref, c.Probe.Label)) ?? [];
        var oldServers = previous?.Services.SelectMany(s => s.RealServers).ToDictionary(r => r.Ref) ?? [];
        var oldServices = previous?.Services.ToDictionary(s => s.Ref) ?? [];
        var services = new List<MonitoredVirtualService>();
        foreach (var virtualServer in configuration.VirtualServers)
        {
            var service = new MonitoredVirtualService(MonitoredVirtualService.ReferenceOf(virtualServer), virtualServer);
            foreach (var realServer in virtualServer.RealServers)
            {
                var server = new MonitoredRealServer(service, new RealServerRef(service.Ref, realServer.Address, realServer.Port ?? 0), realServer);
                var labels = new HashSet<string>(StringComparer.Ordinal);
                foreach (var checker in realServer.Checkers)
                {
                    if (probeFactory(configuration.GlobalDefinitions, virtualServer, realServer, checker) is not { } probe)
                    {
                        continue;
                    }

                    // alpha on the checker, else on the virtual server (the parser folds the latter into the former).
                    var alpha = checker.Alpha ?? virtualServer.Alpha;
                    var label = Unique(probe, labels);
                    var timing = CheckerTiming.Of(checker);
                    var machine = oldCheckers.TryGetValue((server.Ref, label.Label), out var old) && old.Machine.Timing == timing
                        ? old.Machine
                        : new CheckerStateMachine(timing, alpha);
                    var runner = new CheckRunner(server, server.Checkers.Count, label, machine);
                    server.Checkers.Add(runner);
                }

                server.Health = new RealServerHealth(
                    realServer.Weight,
                    realServer.InhibitOnFailure || virtualServer.InhibitOnFailure,
                    [.. server.Checkers.Select(c => c.Machine.IsUp)],
                    oldServers.TryGetValue(server.Ref, out var oldServer) && oldServer.Health.ConfiguredWeight == realServer.Weight
                        ? oldServer.Health.WantedWeight
                        : null);
                service.RealServers.Add(server);
            }

            service.CarriedOver = oldServices.TryGetValue(service.Ref, out var oldService);
            service.Quorum = new QuorumState(virtualServer.Quorum, virtualServer.Hysteresis, service.LiveWeight(), oldService?.Quorum.IsUp);
            services.Add(service);
        }

        return services;
    }

    /// <summary>Two identical checkers on one server would be indistinguishable in the events: number the repeats.</summary>
    private static IProbe Unique(IProbe probe, HashSet<string> labels)
    {
        if (labels.Add(probe.Label))
        {
            return probe;
        }

        var n = 2;
        while (!labels.Add($"{probe.Label} #{n}"))
        {
            n++;
        }

        return new RelabelledProbe(probe, $"{probe.Label} #{n}");
    }

    private sealed class RelabelledProbe(IProbe inner, string label) : IProbe
    {
        public string Label => label;

        public bool StartsWithoutBlocking => inner.StartsWithoutBlocking;

        public ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);
    }
}
