using LvsEvents.EventStore;
using LvsEvents.Influx;
using LvsEvents.Monitor.Alerts;
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
        services.AddAlerts(configuration);
        // The replay's live cluster view (lvsctl state / status / postmortem read it), kept beside the recorder.
        services.AddSingleton(_ => new Replay.ClusterProjection(Npgsql.NpgsqlDataSource.Create(connectionString), schema));
        services.AddHostedService<ClusterViewProjection>();
        return services;
    }

    /// <summary>Alert rules over the recorded events, published on the bus and delivered to webhooks and SMTP.</summary>
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(AlertOptions.Section).Get<AlertOptions>() ?? new AlertOptions();
        services.AddOptions<AlertOptions>().Bind(configuration.GetSection(AlertOptions.Section));
        services.AddSingleton(new AlertBook([
            new RealServerWeightZeroRule(), new AllRealServersDownRule(), new FailoverRule(options.FailoverStableAfter),
            new SplitBrainRule(), new CheckerStalledRule(), new SpoolBacklogRule(options.SpoolBacklogThreshold), new RecoveryDecisionRule(),
            new ActiveConnectionsRule(options.ActiveConnectionsThreshold),
        ]));
        foreach (var url in options.WebhookUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new Eventing.ConfigurationException($"Alerts:WebhookUrls: '{url}' is not an http(s) URL");
            services.AddSingleton<IAlertSink>(_ => new WebhookAlertSink(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, uri));
        }
        if (!string.IsNullOrWhiteSpace(options.Smtp.Server))
        {
            if (options.Smtp.To.Count == 0)
                throw new Eventing.ConfigurationException("Alerts:Smtp:To must name at least one recipient when Alerts:Smtp:Server is set");
            services.AddSingleton<IAlertSink>(new SmtpAlertSink(options.Smtp));
        }
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<IRecordedEventObserver>(p => p.GetRequiredService<AlertEvaluator>());
        services.AddHostedService(p => p.GetRequiredService<AlertEvaluator>());
        return services;
    }
}
