using LvsEvents.Replay;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Monitor;

/// <summary>
/// Keeps the replay's cluster view (shared/LvsEvents.Replay) live beside the recorder, once the store's schema
/// exists: the projection adds indexes to Marten's event table, which must not race Marten's own migration.
/// </summary>
internal sealed class ClusterViewProjection(EventStoreReadiness readiness, ClusterProjection projection, ILogger<LiveClusterProjection> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await readiness.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        using var live = new LiveClusterProjection(projection, logger);
        await live.StartAsync(stoppingToken).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await live.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
