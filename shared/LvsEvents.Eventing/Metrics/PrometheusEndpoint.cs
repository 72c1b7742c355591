using LvsEvents.Eventing.Spool;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace LvsEvents.Eventing.Metrics;

/// <summary>
/// Serves <c>/metrics</c> in Prometheus' text format when <c>Metrics:PrometheusPort</c> is set. Services put their
/// own gauges in prometheus-net's default registry, named after the InfluxDB measurement and field
/// (<c>vrrp_adverts_sent</c> for measurement <c>vrrp_adverts</c>, field <c>sent</c>) with the same labels as its tags.
/// Every service has the spool's depth: events waiting for the bus.
/// </summary>
public sealed class PrometheusEndpoint(
    IOptions<PrometheusOptions> options,
    DurableEventSpool spool,
    ServiceIdentity identity,
    ILogger<PrometheusEndpoint> logger) : IHostedService
{
    private static readonly Gauge SpoolDepth = Prometheus.Metrics.CreateGauge("spool_depth", "Events in the service's durable spool, not yet confirmed by the bus.", "node", "service");
    private MetricServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.PrometheusPort <= 0)
            return Task.CompletedTask;
        Prometheus.Metrics.SuppressDefaultMetrics();
        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(() => SpoolDepth.WithLabels(identity.NodeId, identity.Service).Set(spool.Depth));
        try
        {
            _server = new MetricServer(settings.PrometheusAddress, settings.PrometheusPort);
            _server.Start();
        }
        catch (Exception e) when (e is System.Net.HttpListenerException or InvalidOperationException)
        {
            throw new ConfigurationException($"Metrics:PrometheusPort {settings.PrometheusPort} on {settings.PrometheusAddress}: cannot listen ({e.Message})");
        }
        logger.LogInformation("Prometheus metrics on http://{Address}:{Port}/metrics", settings.PrometheusAddress, settings.PrometheusPort);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
            await _server.StopAsync().ConfigureAwait(false);
    }
}
