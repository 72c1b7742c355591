using System.Reflection;
using LvsEvents.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Eventing;

/// <summary>Emits <see cref="ServiceStarted"/> and <see cref="ServiceStopping"/> for the process.</summary>
internal sealed class ServiceLifecycleEvents(
    IEventEmitter emitter,
    ServiceIdentity identity,
    IConfiguration configuration,
    ILogger<ServiceLifecycleEvents> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        await emitter.EmitAsync(new ServiceStarted { Version = version, ProcessId = Environment.ProcessId, ConfigurationFile = configuration["Keepalived:File"] }, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("{Service} started on node {NodeId} (version {Version})", identity.Service, identity.NodeId, version);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await emitter.EmitAsync(new ServiceStopping { Reason = "host shutdown" }, cancellationToken).ConfigureAwait(false);
    }
}
