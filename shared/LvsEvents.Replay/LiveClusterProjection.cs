using LvsEvents.EventStore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace LvsEvents.Replay;

/// <summary>Keeps the cluster view and its snapshots up to date in the store while the monitor records events.</summary>
public sealed class LiveClusterProjection(ClusterProjection projection, ILogger<LiveClusterProjection> logger) : BackgroundService
{
    public static TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        var ensured = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // The tables and indexes, checked now and then (a catalog query when they exist): an operator or a
                // restore may have dropped them, and the first check builds them on a store that never had them.
                if (DateTime.UtcNow - ensured > TimeSpan.FromMinutes(1))
                {
                    await projection.EnsureSchemaAsync(stoppingToken).ConfigureAwait(false);
                    ensured = DateTime.UtcNow;
                }

                await projection.CatchUpAsync(stoppingToken).ConfigureAwait(false);
                failing = false;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                // The schema may not exist yet (the monitor creates it), or the database is away: try again.
                if (!failing)
                {
                    logger.LogWarning("cluster view projection: {Error}; retrying", e.Message);
                }

                failing = true;
            }

            try
            {
                await Task.Delay(Interval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}

public static class ReplayServiceCollectionExtensions
{
    /// <summary>The live cluster view projection, in the event store's schema (EventStore:Schema, default lvsevents).</summary>
    public static IServiceCollection AddClusterViewProjection(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = EventStoreSchema.Validate(configuration.GetConnectionString(EventStoreSchema.ConnectionStringName));
        var schema = configuration["EventStore:Schema"] ?? EventStoreSchema.SchemaName;
        services.AddSingleton(_ => new ClusterProjection(NpgsqlDataSource.Create(connectionString), schema));
        services.AddHostedService<LiveClusterProjection>();
        return services;
    }
}
