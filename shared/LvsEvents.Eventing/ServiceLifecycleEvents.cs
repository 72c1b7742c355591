using System.Reflection;
using LvsEvents.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Eventing;

/// <summary>
/// Emits <see cref="ServiceStarted"/> and <see cref="ServiceStopping"/> for the process, and a
/// <see cref="ServiceHeartbeat"/> with the spool's depth every <see cref="EventingOptions.HeartbeatInterval"/>.
/// </summary>
internal sealed class ServiceLifecycleEvents(
    IEventEmitter emitter,
    ServiceIdentity identity,
    IConfiguration configuration,
    Spool.DurableEventSpool spool,
    Microsoft.Extensions.Options.IOptions<EventingOptions> options,
    TimeProvider clock,
    ILogger<ServiceLifecycleEvents> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _heartbeats;

    public void Dispose() => _stopping.Dispose();

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var started = clock.GetUtcNow();
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await emitter.EmitAsync(new ServiceHeartbeat { SpoolDepth = spool.Depth, Uptime = clock.GetUtcNow() - started }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.HeartbeatInterval > TimeSpan.Zero)
            _heartbeats = Task.Run(() => HeartbeatAsync(_stopping.Token), CancellationToken.None);
        var version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        await emitter.EmitAsync(new ServiceStarted { Version = version, ProcessId = Environment.ProcessId, ConfigurationFile = configuration["Keepalived:File"] }, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("{Service} started on node {NodeId} (version {Version})", identity.Service, identity.NodeId, version);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_heartbeats is not null)
            await _heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await emitter.EmitAsync(new ServiceStopping { Reason = "host shutdown" }, cancellationToken).ConfigureAwait(false);
    }
}
