using System.Collections.Concurrent;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Eventing.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace LvsEvents.Health.Reporting;

/// <summary>
/// Per real server health for Prometheus, named as the monitor's InfluxDB measurements and fields:
/// <c>probe_latency_ms</c> and <c>probe_success</c> (labelled node, virtual_service, real_server, checker; the last
/// probe), <c>real_server_health_up</c> and <c>real_server_weight_weight</c> (node, virtual_service, real_server).
/// State and weight are read from the running engine when scraped; the last probe result is noted as the outbox hands
/// each <see cref="ProbeCompleted"/> to the emitter (off the probe path: one dictionary write per result).
/// </summary>
public sealed class HealthGauges : IEventEmitter
{
    private static readonly string[] ServerLabels = ["node", "virtual_service", "real_server"];
    private static readonly string[] ProbeLabels = [.. ServerLabels, "checker"];
    private static readonly Gauge Latency = Metrics.CreateGauge("probe_latency_ms", "Latency of the real server's last probe by this checker, ms.", ProbeLabels);
    private static readonly Gauge Success = Metrics.CreateGauge("probe_success", "1 when the checker's last probe succeeded.", ProbeLabels);
    private static readonly Gauge Up = Metrics.CreateGauge("real_server_health_up", "1 while the real server is up (all its checkers pass).", ServerLabels);
    private static readonly Gauge Weight = Metrics.CreateGauge("real_server_weight_weight", "The weight the health service wants for the real server (0 when down with inhibit_on_failure).", ServerLabels);

    private readonly IEventEmitter _inner;
    private readonly IServiceProvider _services;
    private readonly string _node;
    // Keyed by the engine's own server object (the event carries its Ref): reference hashing is cheap.
    private readonly ConcurrentDictionary<(RealServerRef, string), (double LatencyMs, bool Success)> _last = new(new ReferenceKey());
    private readonly Lock _gate = new();
    private readonly GaugeSeriesSet _exported = new();

    private HealthGauges(IEventEmitter inner, IServiceProvider services, string node)
    {
        _inner = inner;
        _services = services;
        _node = node;
        Metrics.DefaultRegistry.AddBeforeCollectCallback(Update);
    }

    public ValueTask<LvsEvent> EmitAsync(LvsEvent e, CancellationToken cancellationToken = default)
    {
        if (e is ProbeCompleted p)
        {
            _last[(p.RealServer, p.Checker)] = (p.Latency.TotalMilliseconds, p.Success);
        }

        return _inner.EmitAsync(e, cancellationToken);
    }

    public ValueTask EmitManyAsync(IReadOnlyList<LvsEvent> events, CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is ProbeCompleted p)
            {
                _last[(p.RealServer, p.Checker)] = (p.Latency.TotalMilliseconds, p.Success);
            }
        }

        // The inner emitter spools the group as one write and one fsync.
        return _inner.EmitManyAsync(events, cancellationToken);
    }

    /// <summary>Puts the gauges in front of the service's emitter (register after <c>AddLvsEventing</c>).</summary>
    public static IServiceCollection AddHealthGauges(IServiceCollection services)
    {
        services.AddSingleton(sp => new HealthGauges(sp.GetRequiredService<EventEmitter>(), sp, sp.GetRequiredService<ServiceIdentity>().NodeId));
        services.AddSingleton<IEventEmitter>(sp => sp.GetRequiredService<HealthGauges>());
        return services;
    }

    private void Update()
    {
        if (_services.GetService<HealthCheckService>()?.Engine is not { } engine)
        {
            return;
        }

        lock (_gate)
        {
            var probed = new HashSet<(RealServerRef, string)>(new ReferenceKey());
            foreach (var service in engine.Services)
            {
                foreach (var server in service.RealServers)
                {
                    string[] labels = [_node, server.Ref.VirtualService.ToString(), $"{server.Ref.Address}:{server.Ref.Port}"];
                    _exported.Set(Up, labels, server.Health.State == HealthState.Up ? 1 : 0);
                    _exported.Set(Weight, labels, server.Health.Weight);
                    foreach (var checker in server.Checkers)
                    {
                        var key = (server.Ref, checker.Probe.Label);
                        if (_last.TryGetValue(key, out var last))
                        {
                            probed.Add(key);
                            string[] probeLabels = [.. labels, checker.Probe.Label];
                            _exported.Set(Latency, probeLabels, last.LatencyMs);
                            _exported.Set(Success, probeLabels, last.Success ? 1 : 0);
                        }
                    }
                }
            }

            // Servers a reload removed: their series go, and their last results.
            _exported.Complete();

            foreach (var stale in _last.Keys.Where(k => !probed.Contains(k)))
            {
                _last.TryRemove(stale, out _);
            }
        }
    }

    private sealed class ReferenceKey : IEqualityComparer<(RealServerRef Server, string Checker)>
    {
        public bool Equals((RealServerRef Server, string Checker) x, (RealServerRef Server, string Checker) y) =>
            ReferenceEquals(x.Server, y.Server) && string.Equals(x.Checker, y.Checker, StringComparison.Ordinal);

        public int GetHashCode((RealServerRef Server, string Checker) obj) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Server), StringComparer.Ordinal.GetHashCode(obj.Checker));
    }
}
