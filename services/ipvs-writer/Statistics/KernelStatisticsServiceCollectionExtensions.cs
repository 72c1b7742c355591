using LvsEvents.Influx;
using LvsEvents.IpvsWriter.Reconciliation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LvsEvents.IpvsWriter.Statistics;

public static class KernelStatisticsServiceCollectionExtensions
{
    /// <summary>The statistics poller; its InfluxDB points go out when <c>ConnectionStrings:influxdb</c> is set.</summary>
    public static HostApplicationBuilder AddKernelStatistics(this HostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KernelStatisticsOptions>().Bind(builder.Configuration.GetSection(WriterOptions.Section));
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("influxdb")))
        {
            builder.Services.AddInfluxMetrics(builder.Configuration);
        }

        builder.Services.AddSingleton<KernelStatisticsPoller>();
        builder.Services.AddHostedService(p => p.GetRequiredService<KernelStatisticsPoller>());
        return builder;
    }
}
