using LvsEvents.EventStore;
using LvsEvents.Influx;
using LvsEvents.Monitor.Metrics;
using LvsEvents.Monitor.Recording;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LvsEvents.Monitor;

public static class MonitorServiceCollectionExtensions
{
    /// <summary>The monitor's parts besides the bus: the event store, the recorder, metrics.</summary>
    public static IServiceCollection AddMonitor(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = EventStoreSchema.Validate(configuration.GetConnectionString(EventStoreSchema.ConnectionStringName));
        // EventStore:Schema lets a benchmark or a second lab keep its events apart; the default is the product's.
        var schema = configuration["EventStore:Schema"] ?? EventStoreSchema.SchemaName;
        services.AddMarten(options => EventStoreSchema.Configure(options, connectionString, schema));
        services.AddSingleton<EventStoreReadiness>();
        services.AddHostedService<EventStoreStartup>();
        services.AddSingleton(_ => EventRecorder.Create(connectionString, schema));
        services.AddSingleton<RecordingStatistics>();
        services.AddSingleton<RecordingTurnstile>();
        services.AddInfluxMetrics(configuration);
        services.AddSingleton<IRecordedEventObserver, InfluxEventObserver>();
        return services;
    }
}
