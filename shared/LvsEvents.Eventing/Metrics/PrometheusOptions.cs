namespace LvsEvents.Eventing.Metrics;

/// <summary>Section <c>Metrics</c>: the Prometheus endpoint every service can expose (keepalived #1731).</summary>
public sealed class PrometheusOptions
{
    public const string Section = "Metrics";

    /// <summary>The local port of <c>/metrics</c>; 0 (the default) serves none.</summary>
    public int PrometheusPort { get; set; }

    /// <summary>Where to listen; loopback unless the operator opens it.</summary>
    public string PrometheusAddress { get; set; } = "127.0.0.1";
}
