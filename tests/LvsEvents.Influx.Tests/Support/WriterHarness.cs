using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Influx.Tests.Support;

/// <summary>
/// An <see cref="InfluxMetricsWriter"/> built the way the product builds it (AddInfluxMetrics over configuration),
/// started, with every log entry captured. Disposing flushes and stops it.
/// </summary>
public sealed class WriterHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private WriterHarness(ServiceProvider services, StructuredLogCapture logs)
    {
        _services = services;
        Logs = logs;
        Writer = services.GetRequiredService<InfluxMetricsWriter>();
    }

    public InfluxMetricsWriter Writer { get; }

    public StructuredLogCapture Logs { get; }

    public static async Task<WriterHarness> StartAsync(string connectionString, IDictionary<string, string>? influxSettings = null)
    {
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:influxdb"] = connectionString };
        foreach (var (key, value) in influxSettings ?? new Dictionary<string, string>())
        {
            settings[$"Influx:{key}"] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var logs = new StructuredLogCapture();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs))
            .AddInfluxMetrics(configuration)
            .BuildServiceProvider();
        var harness = new WriterHarness(services, logs);
        await harness.Writer.StartAsync(CancellationToken.None);
        return harness;
    }

    /// <summary>A loopback port nothing listens on: connections to it are refused at once.</summary>
    public static int ClosedLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static InfluxQueryClient QueryClient(string connectionString) =>
        new(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, InfluxEndpoint.Parse(connectionString));

    public static string UniqueName(string prefix) => $"{prefix}_{Guid.NewGuid():N}";

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync();
        await _services.DisposeAsync();
    }
}
