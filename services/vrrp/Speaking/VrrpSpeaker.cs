using LvsEvents.Configuration;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Influx;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Definitions;
using LvsEvents.Vrrp.Notification;
using LvsEvents.Vrrp.Protocol;
using LvsEvents.Vrrp.Tracking;
using LvsEvents.Vrrp.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// Runs every <c>vrrp_instance</c> of the running configuration: one <see cref="VrrpInstanceRunner"/> each,
/// the tracked scripts and interfaces that move their priorities, sync groups that move together, and reloads
/// that touch only the instances that changed (keepalived #2159: an unchanged instance keeps its VIPs).
/// </summary>
public sealed class VrrpSpeaker(
    RunningConfiguration configuration,
    IOptions<VrrpServiceOptions> options,
    IVrrpLinkFactory links,
    VrrpEventWriter events,
    NotifyScriptRunner notify,
    ServiceIdentity identity,
    TimeProvider clock,
    ILoggerFactory loggers,
    InfluxMetricsWriter? metrics = null) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger<VrrpSpeaker>();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, VrrpInstanceRunner> _runners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VrrpScriptMonitor> _scripts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CancellationTokenSource> _scriptLoops = new(StringComparer.Ordinal);
    private readonly Dictionary<VrrpInstanceRunner, TrackingVerdict> _verdicts = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _background = [];
    private InterfaceLinkWatcher? _linkWatcher;
    private IDisposable? _subscription;
    private string? _namespace;

    public IReadOnlyCollection<VrrpInstanceRunner> Runners
    {
        get
        {
            lock (_runners)
                return _runners.Values.ToList();
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var plan = CompileOrThrow(configuration.Current);
        _namespace = plan.NetworkNamespace;
        // The whole process, not only the protocol threads: a garbage collection runs on whichever thread allocated and
        // holds the protocol threads stopped meanwhile; at nice 0 on a loaded director that thread waits for a CPU while
        // the master says nothing (82-102 ms silences at advert_int 0.02 under load 10-39). Later threads inherit it.
        var nice = ThreadNice();
        if (ProtocolThreadPriority.TrySetProcess(nice) is { } problem)
            _logger.LogWarning("Cannot set lvs-vrrp's nice to {Nice} ({Problem}); it runs at its inherited priority, and a busy director may delay its adverts", nice, problem);
        _logger.LogInformation("Speaking VRRP for {Count} instances{Namespace}", plan.Instances.Count,
            _namespace is null ? "" : $" in network namespace {_namespace}");
        try
        {
            _linkWatcher = new InterfaceLinkWatcher(NetworkNamespace.Run(_namespace, InterfaceAddresses.Open), TimeSpan.FromMilliseconds(100),
                loggers.CreateLogger<InterfaceLinkWatcher>());
        }
        catch (IOException e)
        {
            throw new ConfigurationException($"lvs-vrrp: {e.Message}");
        }
        _linkWatcher.Changed += (_, _) => ReevaluateAll();
        await _linkWatcher.WatchAsync(plan.Instances.SelectMany(i => i.Tracks).Where(t => t.Kind == TrackedKind.Interface).Select(t => t.Name), cancellationToken).ConfigureAwait(false);
        UpdateScripts(plan.Scripts);

        foreach (var definition in plan.Instances)
        {
            var runner = CreateRunner(definition);
            lock (_runners)
                _runners[definition.Name] = runner;
        }
        foreach (var runner in Runners)
        {
            runner.Start();
            Reevaluate(runner);
        }

        _background.Add(Task.Run(() => _linkWatcher.RunAsync(_stopping.Token)));
        _background.Add(Task.Run(() => ReportCountersAsync(_stopping.Token)));
        _subscription = configuration.Subscribe("vrrp", OnReloadAsync);
        // A scrape sees the counters as they are, not as of the last InfluxDB report.
        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            foreach (var runner in Runners)
                AdvertCountersGauges.Update(identity.NodeId, runner);
        });
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Graceful: priority 0 so the backups take over after Skew_Time, VIPs released, notify_stop run.
            await Task.WhenAll(Runners.Select(r => StopRunnerAsync(r, graceful: true))).ConfigureAwait(false);
            lock (_runners)
                _runners.Clear();
        }
        finally
        {
            _gate.Release();
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var loop in _scriptLoops.Values)
            await loop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_background).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var runner in Runners)
            await runner.DisposeAsync().ConfigureAwait(false);
        _linkWatcher?.Dispose();
        _stopping.Dispose();
        _gate.Dispose();
    }

    private VrrpPlan CompileOrThrow(Keepalived.Model.KeepalivedConfiguration model)
    {
        var (plan, errors) = VrrpInstanceCompiler.Compile(model, options.Value);
        if (errors.Count > 0)
            throw new ConfigurationException(string.Join(Environment.NewLine, errors));
        return plan;
    }

    private VrrpInstanceRunner CreateRunner(VrrpInstanceDefinition definition)
    {
        IVrrpInstanceLink link;
        try
        {
            link = links.Open(definition, _namespace);
        }
        catch (VrrpTransportPermissionException)
        {
            throw new ConfigurationException("needs CAP_NET_RAW and CAP_NET_ADMIN to speak VRRP and own VIPs (run it as root)");
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ArgumentException)
        {
            throw new ConfigurationException($"{definition.Location}: vrrp_instance {definition.Name}: cannot open interface {definition.Interface}: {e.Message}");
        }
        var runner = new VrrpInstanceRunner(definition, link, events, notify, _namespace, clock, loggers.CreateLogger($"LvsEvents.Vrrp.Instance.{definition.Name}"))
        {
            ThreadNice = ThreadNice(),
        };
        runner.StateChanged += OnStateChanged;
        return runner;
    }

    /// <summary>keepalived's global <c>vrrp_priority</c> when set, else <see cref="VrrpServiceOptions.ProcessNice"/>.</summary>
    private int ThreadNice()
        => configuration.Current.GlobalDefinitions.OtherSettings.FirstOrDefault(s => s.Keyword == "vrrp_priority")?.Arguments.FirstOrDefault() is { } text
           && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var nice)
            ? Math.Clamp(nice, -20, 19)
            : options.Value.ProcessNice;

    private async Task StopRunnerAsync(VrrpInstanceRunner runner, bool graceful)
    {
        try
        {
            await runner.StopAsync(graceful).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("{Instance} did not stop within 5 s", runner.Name);
        }
        await runner.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask OnReloadAsync(ConfigurationChangedNotification change, CancellationToken cancellationToken)
    {
        var (plan, errors) = VrrpInstanceCompiler.Compile(change.Current.Model, options.Value);
        if (errors.Count > 0)
        {
            _logger.LogError("Reload of {File} not applied to VRRP: {Errors}", change.Current.File, string.Join("; ", errors));
            return;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            UpdateScripts(plan.Scripts);
            await _linkWatcher!.WatchAsync(plan.Instances.SelectMany(i => i.Tracks).Where(t => t.Kind == TrackedKind.Interface).Select(t => t.Name), cancellationToken).ConfigureAwait(false);
            var wanted = plan.Instances.ToDictionary(i => i.Name, StringComparer.Ordinal);
            foreach (var old in Runners.Where(r => !wanted.ContainsKey(r.Name)))
            {
                _logger.LogInformation("Reload: {Instance} removed; leaving it", old.Name);
                lock (_runners)
                    _runners.Remove(old.Name);
                await StopRunnerAsync(old, graceful: true).ConfigureAwait(false);
            }
            var unchanged = 0;
            foreach (var definition in plan.Instances)
            {
                VrrpInstanceRunner? old;
                lock (_runners)
                    _runners.TryGetValue(definition.Name, out old);
                if (old is not null && old.Definition.Fingerprint() == definition.Fingerprint())
                {
                    unchanged++;
                    continue;
                }
                // Open the new link first: a bad interface leaves the old runner in place.
                var runner = CreateRunner(definition);
                var resumeAsMaster = false;
                if (old is not null)
                {
                    var state = await old.StopAsync(graceful: false).ConfigureAwait(false);
                    await old.DisposeAsync().ConfigureAwait(false);
                    resumeAsMaster = state == VrrpState.Master;
                    var kept = definition.OwnedAddresses.Select(a => (a.Address, a.Interface)).ToHashSet();
                    await runner.ReleaseDroppedAsync(old.Definition.OwnedAddresses.Where(a => !kept.Contains((a.Address, a.Interface))).ToList()).ConfigureAwait(false);
                    _logger.LogInformation("Reload: {Instance} changed; carrying on as {State}", definition.Name, state);
                }
                else
                {
                    _logger.LogInformation("Reload: {Instance} added", definition.Name);
                }
                lock (_runners)
                    _runners[definition.Name] = runner;
                runner.Start(resumeAsMaster);
                Reevaluate(runner);
            }
            _logger.LogInformation("Reload applied to VRRP: {Unchanged} instances untouched", unchanged);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void UpdateScripts(IReadOnlyList<VrrpScriptDefinition> scripts)
    {
        foreach (var name in _scripts.Keys.ToList())
        {
            if (scripts.Any(s => s.Name == name && s == _scripts[name].Script))
                continue;
            _scriptLoops[name].Cancel();
            _scriptLoops.Remove(name);
            _scripts.Remove(name);
        }
        foreach (var script in scripts.Where(s => !_scripts.ContainsKey(s.Name)))
        {
            var monitor = new VrrpScriptMonitor(script, _namespace, _logger);
            monitor.Changed += _ => ReevaluateAll();
            var loop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            _scripts[script.Name] = monitor;
            _scriptLoops[script.Name] = loop;
            _background.Add(Task.Run(async () =>
            {
                try
                {
                    await monitor.RunAsync(loop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }));
        }
    }

    private void ReevaluateAll()
    {
        foreach (var runner in Runners)
            Reevaluate(runner);
    }

    private void Reevaluate(VrrpInstanceRunner runner)
    {
        var definition = runner.Definition;
        var verdict = TrackedPriority.Evaluate(definition.Priority, definition.Tracks, t => t.Kind == TrackedKind.Script
            ? !_scripts.TryGetValue(t.Name, out var s) || s.IsUp
            : _linkWatcher!.IsUp(t.Name));
        TrackingVerdict? previous;
        lock (_verdicts)
        {
            _verdicts.TryGetValue(runner, out previous);
            if (previous == verdict)
                return;
            _verdicts[runner] = verdict;
        }
        if (previous is null && verdict.Fault is null && verdict.EffectivePriority == definition.Priority)
            return;
        var clearedBy = previous?.Fault == VrrpTransitionReason.ScriptFailed ? VrrpTransitionReason.ScriptRecovered : VrrpTransitionReason.InterfaceUp;
        runner.OnTracking(verdict.EffectivePriority, verdict.Fault, verdict.Cause, clearedBy);
    }

    /// <summary>keepalived's vrrp_sync_group: one member's move takes the others along.</summary>
    private void OnStateChanged(VrrpInstanceRunner runner, StateTransition transition)
    {
        if (runner.Definition.SyncGroup is not { } group || transition.Reason == VrrpTransitionReason.SyncGroupMemberChanged)
            return;
        foreach (var member in Runners.Where(r => r != runner && r.Definition.SyncGroup == group))
        {
            if (transition.To == VrrpState.Fault)
            {
                member.FaultFromSyncGroup(true);
            }
            else if (transition.From == VrrpState.Fault)
            {
                bool ownFault;
                lock (_verdicts)
                    ownFault = _verdicts.TryGetValue(member, out var v) && v.Fault is not null;
                if (!ownFault)
                    member.FaultFromSyncGroup(false);
            }
            else if (transition.To is VrrpState.Master or VrrpState.Backup)
            {
                member.FollowSyncGroup(transition.To);
            }
        }
    }

    private async Task ReportCountersAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.CountersInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var runner in Runners)
            {
                var rejected = runner.Rejections.Snapshot();
                _logger.LogDebug("{Instance}: {State} priority {Priority}; adverts sent {Sent}, received {Received}, rejected {Rejected}",
                    runner.Name, runner.State, runner.EffectivePriority, runner.AdvertsSent, runner.AdvertsReceived,
                    string.Join(", ", rejected.Select(r => $"{r.Key}={r.Value}")));
                if (metrics is null)
                    continue;
                metrics.TryWrite(AdvertCountersPoint.From(identity.NodeId, runner.Name, runner.Definition.VirtualRouterId, runner.State,
                    runner.EffectivePriority, runner.AdvertsSent, runner.AdvertsReceived, runner.Rejections, clock.GetUtcNow()));
            }
        }
    }
}
