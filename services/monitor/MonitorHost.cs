using LvsEvents.Eventing;
using LvsEvents.Monitor.Recording;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Monitor;

/// <summary>
/// A monitor host built from explicit settings, wired exactly as <c>lvs-monitor</c> is: for tests,
/// benchmarks and tools that run the monitor inside their own process.
/// </summary>
public static class MonitorHost
{
    public static IHost Build(IReadOnlyDictionary<string, string?> settings, ILoggerProvider? logs = null, LogLevel minimumLevel = LogLevel.Information)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(minimumLevel);
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddLvsEventing(builder.Configuration, "monitor", bus => bus.AddRecorder());
        builder.Services.AddMonitor(builder.Configuration);
        return builder.Build();
    }
}
