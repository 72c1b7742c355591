using LvsEvents.Configuration;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Recovery.Policy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Recovery.Service;

/// <summary>
/// The policies behind one lock: events from the bus and clock ticks in, decisions and commands out through the
/// emitter (durable spool, then the bus). The policies are pure; this is the only place that emits.
/// </summary>
public sealed class RecoveryEngine
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SelfHealingPolicy _selfHealing;
    private readonly SplitBrainPolicy _splitBrain;
    private readonly IEventEmitter _emitter;
    private readonly TimeProvider _clock;
    private readonly IReachabilityCheck _reachability;
    private readonly ILogger<RecoveryEngine> _logger;
    private readonly RecoveryStateFile _stateFile;
    private volatile IReadOnlyDictionary<RealServerRef, int> _weights;

    public RecoveryEngine(
        IOptions<RecoveryOptions> options,
        RunningConfiguration configuration,
        ServiceIdentity identity,
        IEventEmitter emitter,
        TimeProvider clock,
        IReachabilityCheck reachability,
        RecoveryStateFile stateFile,
        ILogger<RecoveryEngine> logger)
    {
        _weights = ConfiguredWeights.Of(configuration.Current);
        configuration.Subscribe("recovery weights", (change, _) =>
        {
            _weights = ConfiguredWeights.Of(change.Current.Model);
            return ValueTask.CompletedTask;
        });
        _selfHealing = new SelfHealingPolicy(options.Value, server => _weights.TryGetValue(server, out var w) ? w : null);
        if (stateFile.Load() is { } saved)
        {
            _selfHealing.Import(saved);
            logger.LogInformation("Recovery state from {Path}: {Servers} real servers, {Ramps} ramps, {Held} held", stateFile.Path,
                saved.Servers.Count, saved.Servers.Count(s => s.Ramp is not null), saved.Servers.Count(s => s.Held));
        }

        _stateFile = stateFile;
        _splitBrain = new SplitBrainPolicy(options.Value, identity.NodeId);
        _emitter = emitter;
        _clock = clock;
        _reachability = reachability;
        _logger = logger;
        NodeId = identity.NodeId;
    }

    public string NodeId { get; }

    /// <summary>Whether this node's recovery acts on an event: this node's health decisions and split-brain suspicions.</summary>
    public bool Relevant(LvsEvent e) =>
        e.NodeId == NodeId && e is RealServerHealthChanged or VirtualServiceHealthSnapshot or SplitBrainSuspected;

    public async Task HandleAsync(LvsEvent e, CancellationToken cancellationToken)
    {
        // Reachability is checked outside the lock: it takes up to a second.
        var reachability = e is SplitBrainSuspected ? await _reachability.CheckAsync(cancellationToken).ConfigureAwait(false) : null;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _clock.GetUtcNow();
            var version = _selfHealing.Version;
            var output = e is SplitBrainSuspected suspected
                ? _splitBrain.Handle(suspected, reachability!, now)
                : _selfHealing.Handle(e, now);
            await EmitAsync(output, cancellationToken).ConfigureAwait(false);
            if (_selfHealing.Version != version)
            {
                // After emitting: a crash in between re-decides on redelivery rather than losing a command.
                _stateFile.Save(_selfHealing.Export());
            }
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
            var version = _selfHealing.Version;
            var output = _selfHealing.Tick(_clock.GetUtcNow());
            await EmitAsync(output, cancellationToken).ConfigureAwait(false);
            await EmitAsync(CheckSplitBrainHealed(cancellationToken), cancellationToken).ConfigureAwait(false);
            if (_selfHealing.Version != version)
            {
                _stateFile.Save(_selfHealing.Export());
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task<Reachability>? _healCheck;

    /// <summary>
    /// While a resignation waits for the gateway, a reachability check runs beside the ticks (a failing ping takes 1.5 s and
    /// must not hold up ramps); a tick after it finished hands its result to the policy and starts the next.
    /// </summary>
    private IReadOnlyList<LvsEvent> CheckSplitBrainHealed(CancellationToken cancellationToken)
    {
        if (!_splitBrain.AwaitingHeal)
        {
            return [];
        }

        var done = _healCheck is { IsCompletedSuccessfully: true } check ? check.Result : null;
        if (_healCheck is null || _healCheck.IsCompleted)
        {
            _healCheck = Task.Run(() => _reachability.CheckAsync(cancellationToken), cancellationToken);
        }

        return done is null ? [] : _splitBrain.CheckHealed(done, _clock.GetUtcNow());
    }

    private async Task EmitAsync(IReadOnlyList<LvsEvent> output, CancellationToken cancellationToken)
    {
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
                case SetWeightCommand c:
                    _logger.LogInformation("command.set-weight {RealServer} weight {Weight}", c.RealServer, c.Weight);
                    break;
                case LvsCommand c:
                    _logger.LogInformation("{EventType} ({Reason})", c.EventType, c.Reason);
                    break;
            }
        }
    }
}
