using System.Collections.Immutable;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Desired;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;
using Microsoft.Extensions.Logging;

namespace LvsEvents.IpvsWriter.Reconciliation;

/// <summary>
/// The one owner of the kernel table. Everything that changes it goes through here, one at a time: desired state
/// (<see cref="DesiredState"/>) → diff against what was last applied or read (<see cref="KernelTableDiff"/>) →
/// backend → a <c>kernel.rule-applied</c> event per operation, tied to the event that caused it. A full resync reads
/// the kernel instead, so changes made behind its back (ipvsadm or nft by hand) are found, reported in one
/// <c>kernel.drift-corrected</c> event and undone. The table is never flushed on stop or when the bus is away: the
/// kernel keeps the last applied rules.
/// </summary>
public sealed class Reconciler : IDisposable
{
    private readonly IKernelTableBackend _backend;
    private readonly IEventEmitter _emitter;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<string> _reportedUnsupported = [];
    private KeepalivedConfiguration _configuration;
    private HealthView _health = HealthView.Empty;
    private WeightOverrides _overrides = WeightOverrides.None;
    private KernelTable? _applied;
    private KernelTable? _desired;

    public Reconciler(IKernelTableBackend backend, IEventEmitter emitter, KeepalivedConfiguration configuration, TimeProvider time, ILogger<Reconciler> logger)
    {
        _backend = backend;
        _emitter = emitter;
        _configuration = configuration;
        _time = time;
        _logger = logger;
    }

    public string BackendName => _backend.Name;

    /// <summary>What the reconciler believes the kernel holds (null before the first sync).</summary>
    public KernelTable? Applied => Volatile.Read(ref _applied);

    public HealthView Health => Volatile.Read(ref _health);

    public WeightOverrides Overrides => Volatile.Read(ref _overrides);

    /// <summary>The desired table, without the services the backend cannot program.</summary>
    public KernelTable Desired() => Supported(DesiredState.Build(_configuration, _health, _overrides));

    /// <summary>Reads the kernel, corrects every difference and reports drift. Returns the operations applied.</summary>
    public async Task<IReadOnlyList<TableOperation>> ResyncAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var actual = await _backend.ReadAsync(cancellationToken).ConfigureAwait(false);
            var desired = Desired();
            var operations = KernelTableDiff.Compute(desired, actual);
            // Drift: the kernel is not what this process last wrote (or, at start, holds rules other than ours).
            var expected = _applied ?? KernelTable.Empty;
            var drifted = !actual.Problems.IsEmpty || KernelTableDiff.Compute(expected, actual).Count > 0 && (_applied is not null || actual.Services.Count > 0);
            var differences = drifted ? [.. actual.Problems, .. operations.Select(o => o.Describe())] : ImmutableList<string>.Empty;
            var correlation = Guid.CreateVersion7();
            if (!actual.Problems.IsEmpty)
            {
                _logger.LogWarning("The {Backend} table is damaged ({Problems}); rebuilding it whole", _backend.Name, string.Join("; ", actual.Problems));
                await _backend.ReplaceAsync(desired, cancellationToken).ConfigureAwait(false);
            }
            else if (operations.Count > 0)
            {
                await _backend.ApplyAsync(actual, operations, desired, cancellationToken).ConfigureAwait(false);
            }

            Volatile.Write(ref _applied, desired);
            _desired = desired;
            if (differences.Count > 0)
            {
                _logger.LogWarning("Drift corrected in the {Backend} table: {Differences}", _backend.Name, string.Join("; ", differences.Take(20)));
                await _emitter.EmitAsync(new KernelDriftCorrected { Backend = _backend.Name, Differences = differences, CorrelationId = correlation }, cancellationToken).ConfigureAwait(false);
            }

            await EmitAppliedAsync(operations, correlation, null, cancellationToken).ConfigureAwait(false);
            return operations;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies one received event (health, weight, quorum, set-weight, drain, restore): updates the view, writes the
    /// difference. Events that change nothing write nothing. Returns the operations applied.
    /// </summary>
    public async Task<IReadOnlyList<TableOperation>> HandleAsync(LvsEvent e, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _health = e is VirtualServiceHealthSnapshot snapshot ? _health.ApplySnapshot(snapshot, ConfiguredWeight) : _health.Apply(e);
            _overrides = _overrides.Apply(e, _time.GetUtcNow());
            return await ApplyDesiredAsync(e, cancellationToken, scope: ScopeOf(e)).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Catches up from a full health picture (the health service's snapshot), replacing the event-built view.</summary>
    public async Task<IReadOnlyList<TableOperation>> ReplaceHealthAsync(HealthView snapshot, LvsEvent? cause, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _health = snapshot;
            return await ApplyDesiredAsync(cause, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A reloaded keepalived.conf: services and real servers added, changed or removed.</summary>
    public async Task<IReadOnlyList<TableOperation>> SetConfigurationAsync(KeepalivedConfiguration configuration, LvsEvent? cause, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _configuration = configuration;
            return await ApplyDesiredAsync(cause, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Ends drains whose timeout passed or, where the backend counts them, whose connections reached 0, and removes
    /// those destinations. Called every second by the service.
    /// </summary>
    public async Task<IReadOnlyList<TableOperation>> TickAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var pending = _overrides.Drains.Where(d => !d.Value.Finished).ToList();
            if (pending.Count == 0)
            {
                return [];
            }

            var now = _time.GetUtcNow();
            var statistics = _backend.ReportsConnections ? await _backend.ReadAsync(cancellationToken).ConfigureAwait(false) : null;
            var finished = new List<(RealServerRef Server, Drain Drain)>();
            foreach (var (server, drain) in pending)
            {
                if (drain.TimedOut(now) || statistics is not null && ConnectionsGone(statistics, server))
                {
                    _overrides = _overrides.FinishDrain(server);
                    finished.Add((server, drain));
                }
            }

            var applied = new List<TableOperation>();
            foreach (var (server, drain) in finished)
            {
                _logger.LogInformation("Drain of {Server} finished ({Why})", server, drain.TimedOut(now) ? "timeout" : "no connections left");
                applied.AddRange(await ApplyDesiredAsync(null, cancellationToken, drain.CausingEvent, server.VirtualService).ConfigureAwait(false));
            }

            return applied;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>True only when the backend counted the destination's connections and found none (unknown means wait for the timeout).</summary>
    private static bool ConnectionsGone(KernelTable table, RealServerRef server)
    {
        var counted = table.DestinationStatistics
            .Where(s => s.Key.Item2 == new DestinationKey(server.Address, server.Port) && Refs.Normalize(s.Key.Item1.ToRef()) == server.VirtualService)
            .Select(s => s.Value)
            .ToList();
        return counted.Count > 0 && counted.All(s => s.ActiveConnections is 0 && s.InactiveConnections is 0);
    }

    private int? ConfiguredWeight(RealServerRef server)
    {
        foreach (var vs in _configuration.VirtualServers)
        {
            foreach (var rs in vs.RealServers)
            {
                if (DesiredState.ReferenceOf(vs, rs) == server || DesiredState.KernelReferenceOf(vs, rs) == server)
                {
                    return rs.Weight;
                }
            }
        }

        return null;
    }

    /// <summary>The one virtual service an event can change, or null when it may change any.</summary>
    private static VirtualServiceRef? ScopeOf(LvsEvent e) => e switch
    {
        RealServerHealthChanged h => Refs.Normalize(h.RealServer.VirtualService),
        RealServerWeightChanged w => Refs.Normalize(w.RealServer.VirtualService),
        VirtualServiceQuorumChanged q => Refs.Normalize(q.VirtualService),
        VirtualServiceHealthSnapshot s => Refs.Normalize(s.VirtualService),
        SetWeightCommand c => Refs.Normalize(c.RealServer.VirtualService),
        DrainCommand c => Refs.Normalize(c.RealServer.VirtualService),
        RestoreCommand c => Refs.Normalize(c.RealServer.VirtualService),
        _ => null,
    };

    /// <summary>
    /// Desired → diff → backend. With a <paramref name="scope"/>, only that virtual service is rebuilt and compared (its
    /// kernel services are fixed by the configuration, which did not change), so an event costs the same whatever
    /// the size of the table.
    /// </summary>
    private async Task<IReadOnlyList<TableOperation>> ApplyDesiredAsync(LvsEvent? cause, CancellationToken cancellationToken, Guid? causeId = null, VirtualServiceRef? scope = null)
    {
        var before = _applied ?? KernelTable.Empty;
        KernelTable desired;
        IReadOnlyList<TableOperation> operations;
        if (scope is not null && _desired is not null)
        {
            var part = Supported(DesiredState.Build(_configuration, _health, _overrides, scope));
            desired = _desired with { Services = _desired.Services.SetItems(part.Services) };
            var beforePart = KernelTable.Of(part.Services.Keys.Where(before.Services.ContainsKey).Select(k => before.Services[k]));
            operations = KernelTableDiff.Compute(part, beforePart);
        }
        else
        {
            desired = Desired();
            operations = KernelTableDiff.Compute(desired, before);
        }

        _desired = desired;
        if (operations.Count == 0)
        {
            return operations;
        }

        try
        {
            await _backend.ApplyAsync(before, operations, desired, cancellationToken).ConfigureAwait(false);
        }
        catch (KernelTableException e)
        {
            // The kernel is not what we thought (someone changed it) or refused the change: read it and retry once
            // from what it really holds; if that fails too, the error stands and the next resync tries again.
            _logger.LogWarning("{Backend}: {Error}; reading the table and retrying", _backend.Name, e.Message);
            var actual = await _backend.ReadAsync(cancellationToken).ConfigureAwait(false);
            operations = KernelTableDiff.Compute(desired, actual);
            if (actual.Problems.IsEmpty)
            {
                await _backend.ApplyAsync(actual, operations, desired, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _backend.ReplaceAsync(desired, cancellationToken).ConfigureAwait(false);
            }
        }

        Volatile.Write(ref _applied, desired);
        var correlation = cause is null ? causeId ?? Guid.CreateVersion7() : cause.CorrelationId != Guid.Empty ? cause.CorrelationId : cause.EventId;
        await EmitAppliedAsync(operations, correlation, cause?.EventId ?? causeId, cancellationToken).ConfigureAwait(false);
        return operations;
    }

    private async Task EmitAppliedAsync(IReadOnlyList<TableOperation> operations, Guid correlation, Guid? causation, CancellationToken cancellationToken)
    {
        // Written to the spool together: the spool commits concurrent appends in one flush.
        var pending = new List<Task>(operations.Count);
        foreach (var op in operations)
        {
            var service = op.Service.ToRef();
            pending.Add(_emitter.EmitAsync(new KernelRuleApplied
            {
                Backend = _backend.Name,
                Operation = op.Kind,
                VirtualService = service,
                RealServer = op.Destination is { } d ? new RealServerRef(service, d.Address, d.Port) : null,
                Before = op.Before,
                After = op.After,
                CorrelationId = correlation,
                CausationId = causation,
            }, cancellationToken).AsTask());
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private KernelTable Supported(KernelTable table)
    {
        foreach (var service in table.Services.Values)
        {
            if (_backend.Unsupported(service) is { } reason)
            {
                table = table.Without(service.Key);
                if (_reportedUnsupported.Add(reason))
                {
                    _logger.LogError("Not programmed: {Reason}", reason);
                }
            }
        }

        return table;
    }
}
