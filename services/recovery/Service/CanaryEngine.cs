using LvsEvents.Configuration;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Recovery.Policy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Recovery.Service;

/// <summary>
/// The canary policy behind its own lock (apart from self-healing: a canary's watch never waits on a ramp's save):
/// canary commands from any node, this node's health events and every director's kernel statistics in, decisions, commands and status out through the
/// emitter. The state is saved after each change, after emitting (a crash in between re-decides on redelivery).
/// </summary>
public sealed class CanaryEngine
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CanaryPolicy _policy;
    private readonly IEventEmitter _emitter;
    private readonly TimeProvider _clock;
    private readonly CanaryStateFile _stateFile;
    private readonly ILogger<CanaryEngine> _logger;
    private volatile IReadOnlyDictionary<RealServerRef, int> _weights;
    private volatile bool _watching;

    public CanaryEngine(
        IOptions<CanaryOptions> options,
        RunningConfiguration configuration,
        ServiceIdentity identity,
        IEventEmitter emitter,
        TimeProvider clock,
        CanaryStateFile stateFile,
        ILogger<CanaryEngine> logger)
    {
        _weights = ConfiguredWeights.Of(configuration.Current);
        configuration.Subscribe("canary weights", (change, _) =>
        {
            _weights = ConfiguredWeights.Of(change.Current.Model);
            return ValueTask.CompletedTask;
        });
        NodeId = identity.NodeId;
        _policy = new CanaryPolicy(options.Value, NodeId, Service);
        if (stateFile.Load() is { } saved)
        {
            _policy.Import(saved);
            logger.LogInformation("Canary state from {Path}: {Canaries} canaries, {Active} running or paused", stateFile.Path,
                saved.Canaries.Count, saved.Canaries.Count(c => c.State is CanaryState.Running or CanaryState.Paused));
        }

        _watching = _policy.Watching;
        _emitter = emitter;
        _clock = clock;
        _stateFile = stateFile;
        _logger = logger;
    }

    public string NodeId { get; }

    /// <summary>False while no canary runs: health batches then need not even be read.</summary>
    public bool Watching => _watching;

    /// <summary>
    /// Canary commands meant for this node, this node's health events about a new server under watch, and any
    /// director's kernel statistics while a canary runs (only the director holding the VIP sees its traffic).
    /// </summary>
    public bool Relevant(LvsEvent e) => e switch
    {
        CanaryStartCommand c => c.TargetNode is null || c.TargetNode == NodeId,
        CanaryControlCommand c => c.TargetNode is null || c.TargetNode == NodeId,
        ProbeCompleted p => e.NodeId == NodeId && _watching && _policy.Watches(p.RealServer),
        RealServerHealthChanged h => e.NodeId == NodeId && _watching && _policy.Watches(h.RealServer),
        VirtualServiceHealthSnapshot => e.NodeId == NodeId && _watching,
        KernelStatisticsReported => _watching,
        _ => false,
    };

    public async Task HandleAsync(LvsEvent e, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RunAsync(now => _policy.Handle(e, now), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RunAsync(_policy.Tick, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RunAsync(Func<DateTimeOffset, IReadOnlyList<LvsEvent>> decide, CancellationToken cancellationToken)
    {
        var version = _policy.Version;
        var output = decide(_clock.GetUtcNow());
        _watching = _policy.Watching;
        foreach (var e in output)
        {
            await _emitter.EmitAsync(e, cancellationToken).ConfigureAwait(false);
            switch (e)
            {
                case RecoveryDecision d when d.Alert is AlertSeverity.Warning or AlertSeverity.Critical:
                    _logger.LogWarning("{Policy} {Action} {Subject}: {Reason}", d.Policy, d.Action, d.Subject, d.Reason);
                    break;
                case RecoveryDecision d:
                    _logger.LogInformation("{Policy} {Action} {Subject}: {Reason}", d.Policy, d.Action, d.Subject, d.Reason);
                    break;
            }
        }

        if (_policy.Version != version)
        {
            _stateFile.Save(_policy.Export());
        }
    }

    private IReadOnlyDictionary<RealServerRef, int>? Service(VirtualServiceRef service)
    {
        var servers = _weights.Where(p => p.Key.VirtualService == service).ToDictionary(p => p.Key, p => p.Value);
        return servers.Count == 0 ? null : servers;
    }
}
