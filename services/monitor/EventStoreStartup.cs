using LvsEvents.EventStore;
using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Monitor;

/// <summary>Creates or migrates the store's schema at start, retrying while PostgreSQL is not up yet.</summary>
internal sealed class EventStoreStartup(IDocumentStore store, EventStoreReadiness readiness, ILogger<EventStoreStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await EventStoreSchema.EnsureAsync(store, stoppingToken).ConfigureAwait(false);
                logger.LogInformation("Event store schema {Schema} is ready", store.Options.DatabaseSchemaName);
                readiness.Ready();
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                logger.LogWarning("Event store not reachable yet ({Error}); retrying in {Delay}", e.GetBaseException().Message, delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }
    }
}
