using LvsEvents.Eventing;
using LvsEvents.EventStore;
using LvsEvents.Monitor;
using LvsEvents.Monitor.Recording;
using LvsEvents.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Pipeline.Tests;

/// <summary>Real hosts wired as the services are: an emitting service, and the monitor that records.</summary>
internal static class PipelineHosts
{
    public static async Task<IHost> StartMonitorAsync(string nodeId, string spoolRoot, CapturedLogs? logs = null)
    {
        var host = MonitorHost.Build(await SettingsAsync(nodeId, spoolRoot), logs, LogLevel.Debug);
        await host.StartAsync();
        await EventStoreSchema.EnsureAsync(host.Services.GetRequiredService<Marten.IDocumentStore>(), CancellationToken.None);
        return host;
    }

    public static async Task<IHost> StartEmitterAsync(string service, string nodeId, string spoolRoot, CapturedLogs? logs = null, string? rabbitMq = null)
    {
        var builder = await CreateBuilderAsync(nodeId, spoolRoot, logs, rabbitMq);
        builder.Services.AddLvsEventing(builder.Configuration, service);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static async Task<Dictionary<string, string?>> SettingsAsync(string nodeId, string spoolRoot, string? rabbitMq = null) => new()
    {
        ["ConnectionStrings:rabbitmq"] = rabbitMq ?? await TestServers.RabbitMqAsync(),
        ["ConnectionStrings:eventstore"] = await TestServers.EventStoreAsync(),
        ["ConnectionStrings:influxdb"] = await TestServers.InfluxDbAsync(),
        ["Eventing:NodeId"] = nodeId,
        ["Eventing:SpoolDirectory"] = spoolRoot,
        ["Eventing:MaxRetryDelay"] = "00:00:01",
        ["Influx:FlushInterval"] = "00:00:00.200",
    };

    private static async Task<HostApplicationBuilder> CreateBuilderAsync(string nodeId, string spoolRoot, CapturedLogs? logs, string? rabbitMq = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(await SettingsAsync(nodeId, spoolRoot, rabbitMq));
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        return builder;
    }

    /// <summary>Polls until <paramref name="done"/> holds, or fails after <paramref name="timeout"/> saying what it waited for.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for {what}; last seen: {value}");
            }

            await Task.Delay(200);
        }
    }

    public static RecordedEvents Store(IHost monitor) => new(monitor.Services.GetRequiredService<Marten.IDocumentStore>());
}
