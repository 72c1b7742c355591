using LvsEvents.Influx;
using LvsEvents.Vrrp.Commands;
using LvsEvents.Vrrp.Notification;
using LvsEvents.Vrrp.Speaking;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LvsEvents.Vrrp;

public static class VrrpServiceCollectionExtensions
{
    /// <summary>The VRRP speaker and its event writer; metrics go to InfluxDB when <c>ConnectionStrings:influxdb</c> is set.</summary>
    public static HostApplicationBuilder AddVrrpSpeaker(this HostApplicationBuilder builder)
    {
        VrrpPreflight.Check(builder);
        var services = builder.Services;
        services.AddOptions<VrrpServiceOptions>().Bind(builder.Configuration.GetSection(VrrpServiceOptions.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IVrrpLinkFactory, LinuxVrrpLinkFactory>();
        services.AddSingleton<NotifyScriptRunner>();
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("influxdb")))
            services.AddInfluxMetrics(builder.Configuration);
        // Registered before the speaker, so it stops after it and spools what the speaker's shutdown said.
        services.AddSingleton<VrrpEventWriter>();
        services.AddHostedService(p => p.GetRequiredService<VrrpEventWriter>());
        services.AddSingleton<VrrpSpeaker>();
        services.AddHostedService(p => p.GetRequiredService<VrrpSpeaker>());
        // Commands from the bus (resignations, drills): handed to the instances' loops, never awaited by them.
        services.AddOptions<DrillOptions>().Bind(builder.Configuration.GetSection(DrillOptions.Section));
        services.AddSingleton<VrrpResignHandler>();
        services.AddSingleton<VrrpDrillHandler>();
        return builder;
    }
}
