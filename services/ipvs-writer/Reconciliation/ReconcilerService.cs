using LvsEvents.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.IpvsWriter.Reconciliation;

/// <summary>
/// Runs the reconciler: a full resync at start (retried every few seconds until the kernel accepts it) and every
/// <see cref="WriterOptions.ResyncInterval"/>, drain checks every second, and configuration reloads. Stopping leaves
/// the kernel table as it is.
/// </summary>
public sealed class ReconcilerService(
    Reconciler reconciler,
    RunningConfiguration configuration,
    IOptions<WriterOptions> options,
    TimeProvider time,
    ILogger<ReconcilerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = configuration.Subscribe("ipvs-writer", async (change, ct) =>
        {
            var operations = await reconciler.SetConfigurationAsync(change.Current.Model, null, ct).ConfigureAwait(false);
            logger.LogInformation("Configuration {Hash} applied: {Count} kernel operations", change.Current.Hash, operations.Count);
        });

        var settings = options.Value;
        var nextResync = time.GetUtcNow();
        var synced = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (time.GetUtcNow() >= nextResync)
            {
                try
                {
                    var operations = await reconciler.ResyncAsync(stoppingToken).ConfigureAwait(false);
                    if (!synced || operations.Count > 0)
                    {
                        var table = reconciler.Applied!;
                        logger.LogInformation("Resync through {Backend}: {Operations} operations; {Services} services, {Destinations} destinations",
                            reconciler.BackendName, operations.Count, table.Services.Count, table.DestinationCount);
                    }

                    synced = true;
                    nextResync = time.GetUtcNow() + settings.ResyncInterval;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError("Resync through {Backend} failed: {Error}", reconciler.BackendName, e.Message);
                    nextResync = time.GetUtcNow() + TimeSpan.FromSeconds(5);
                }
            }

            try
            {
                await reconciler.TickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError("Drain check failed: {Error}", e.Message);
            }

            try
            {
                await Task.Delay(settings.DrainCheckInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
