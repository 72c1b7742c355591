using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LvsEvents.Influx;

public static class InfluxServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="InfluxMetricsWriter"/> as a singleton and hosted service, writing to the endpoint in
    /// <c>ConnectionStrings:influxdb</c>, tuned by the section <c>Influx</c> (<see cref="InfluxWriterOptions"/>).
    /// A missing or malformed connection string fails when the writer is first resolved (at host start), naming the key.
    /// </summary>
    public static IServiceCollection AddInfluxMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<InfluxWriterOptions>()
            .Bind(configuration.GetSection(InfluxWriterOptions.SectionName));
        // Keep the credentials in the Authorization header out of request logging, whatever its defaults are.
        services.AddHttpClient(InfluxMetricsWriter.HttpClientName).RedactLoggedHeaders(["Authorization"]);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => InfluxEndpoint.Parse(configuration.GetConnectionString("influxdb")));
        services.TryAddSingleton<InfluxMetricsWriter>();
        services.AddHostedService(provider => provider.GetRequiredService<InfluxMetricsWriter>());
        return services;
    }
}
