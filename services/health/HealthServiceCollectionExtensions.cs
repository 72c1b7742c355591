using LvsEvents.Health.Reporting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LvsEvents.Health;

public static class HealthServiceCollectionExtensions
{
    /// <summary>The checkers and their outbox; needs the event pipeline and the keepalived configuration registered.</summary>
    public static IServiceCollection AddHealthChecking(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HealthOptions>().Bind(configuration.GetSection(HealthOptions.Section))
            .Validate(o => o.Tick > TimeSpan.Zero && o.MaxConcurrentProbes > 0 && o.SnapshotInterval > TimeSpan.Zero
                           && o.WatchdogInterval > TimeSpan.Zero && o.StallFactor >= 1, "Health: Tick, SnapshotInterval and WatchdogInterval must be positive, MaxConcurrentProbes at least 1, StallFactor at least 1")
            .ValidateOnStart();
        var networkNamespace = configuration[$"{HealthOptions.Section}:NetworkNamespace"];
        try
        {
            Checking.ProbeNetwork.UseNamespace(networkNamespace);
        }
        catch (IOException e)
        {
            throw new Eventing.ConfigurationException($"Health:NetworkNamespace: {e.Message}");
        }
        services.AddSingleton<EventOutbox>();
        services.AddSingleton<HealthCheckService>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthCheckService>());
        return services;
    }
}
