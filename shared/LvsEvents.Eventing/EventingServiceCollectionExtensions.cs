using LvsEvents.Eventing.Spool;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Eventing;

public static class EventingServiceCollectionExtensions
{
    /// <summary>
    /// The event pipeline of one service: the durable spool, the emitter, the publisher that drains the
    /// spool to RabbitMQ with publisher confirms, and the MassTransit bus (with the service's consumers).
    /// </summary>
    public static IServiceCollection AddLvsEventing(
        this IServiceCollection services,
        IConfiguration configuration,
        string serviceName,
        Action<IBusRegistrationConfigurator>? addConsumers = null)
    {
        var broker = RabbitMqEndpoint.Parse(configuration.GetConnectionString(RabbitMqEndpoint.ConnectionStringName));
        services.AddOptions<EventingOptions>().Bind(configuration.GetSection(EventingOptions.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var nodeId = sp.GetRequiredService<IOptions<EventingOptions>>().Value.NodeId;
            return new ServiceIdentity(string.IsNullOrWhiteSpace(nodeId) ? Environment.MachineName : nodeId, serviceName);
        });
        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<EventingOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger<DurableEventSpool>();
            return DurableEventSpool.Open(Path.Combine(settings.SpoolDirectory, serviceName), logger, settings.SegmentBytes);
        });
        services.AddSingleton<EventEmitter>();
        services.AddSingleton<IEventEmitter>(sp => sp.GetRequiredService<EventEmitter>());
        services.AddSingleton<SpoolPublisher>();
        services.AddOptions<Metrics.PrometheusOptions>().Bind(configuration.GetSection(Metrics.PrometheusOptions.Section));
        services.AddHostedService<Metrics.PrometheusEndpoint>();

        services.AddMassTransit(bus =>
        {
            addConsumers?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, host =>
                {
                    host.Username(broker.Username);
                    host.Password(broker.Password);
                    host.PublisherConfirmation = true;
                });
                rabbit.ConfigureEndpoints(context);
            });
        });

        // After the bus: hosted services stop in reverse order. The service's own stop (ServiceStopping) is emitted
        // first, then the publisher drains the spool while the bus still runs, then the bus stops.
        services.AddHostedService(sp => sp.GetRequiredService<SpoolPublisher>());
        services.AddHostedService<ServiceLifecycleEvents>();

        // The service does its job whether or not the broker is up: never wait for the bus to start.
        services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(10);
        });
        return services;
    }
}
