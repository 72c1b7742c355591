using LvsEvents.Eventing;
using LvsEvents.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Configuration.Tests;

/// <summary>An in-process host wired as services/vrrp/Program.cs wires lvs-vrrp: the event pipeline and the running configuration.</summary>
internal static class ServiceHosts
{
    public static async Task<HostApplicationBuilder> CreateBuilderAsync(string node, KeepalivedFiles files, CapturedLogs logs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = await TestServers.RabbitMqAsync(),
            ["Eventing:NodeId"] = node,
            ["Eventing:SpoolDirectory"] = Path.Combine(files.Folder, "spool"),
            ["Eventing:RunDirectory"] = Path.Combine(files.Folder, "run"),
            ["Eventing:MaxRetryDelay"] = "00:00:01",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.AddLvsEventing(builder.Configuration, "vrrp");
        return builder;
    }

    public static async Task<IHost> StartAsync(string node, KeepalivedFiles files, CapturedLogs logs)
    {
        var builder = await CreateBuilderAsync(node, files, logs);
        builder.AddKeepalivedConfiguration(["--config", files.Path]);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
