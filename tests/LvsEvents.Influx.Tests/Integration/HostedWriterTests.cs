using LvsEvents.Influx.Tests.Support;
using LvsEvents.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LvsEvents.Influx.Tests.Integration;

/// <summary>AddInfluxMetrics inside a generic host, as the services use it.</summary>
public sealed class HostedWriterTests
{
    [Fact]
    public async Task The_host_binds_the_settings_runs_the_writer_and_flushes_it_on_stop()
    {
        var connectionString = await TestServers.InfluxDbAsync();
        var measurement = WriterHarness.UniqueName("hosted");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:influxdb"] = connectionString,
            ["Influx:BufferCapacity"] = "1234",
            ["Influx:MaxBatchSize"] = "7",
            ["Influx:FlushInterval"] = "00:10:00",
            ["Influx:MaxRetryAttempts"] = "3",
        });
        builder.Services.AddInfluxMetrics(builder.Configuration);
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<InfluxWriterOptions>>().Value;
        Assert.Equal((1234, 7, TimeSpan.FromMinutes(10), 3), (options.BufferCapacity, options.MaxBatchSize, options.FlushInterval, options.MaxRetryAttempts));
        var writer = host.Services.GetRequiredService<InfluxMetricsWriter>();
        Assert.Same(writer, Assert.Single(host.Services.GetServices<IHostedService>()));

        await host.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(writer.TryWrite(new InfluxPoint(measurement, null, [new("v", (long)i)], DateTimeOffset.UtcNow.AddTicks(i))));
        }

        // Fewer points than a batch and a ten-minute interval: only stopping the host sends them.
        await host.StopAsync();

        Assert.Equal(5, writer.GetStatus().Written);
        var count = Assert.Single(await WriterHarness.QueryClient(connectionString)
            .QueryAsync($"SELECT COUNT(\"v\") FROM \"{measurement}\"", CancellationToken.None));
        Assert.Equal(5, count.Get(0, "count").GetInt64());
    }

    [Fact]
    public void A_missing_connection_string_fails_at_resolution_naming_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection().Build();
        using var services = new ServiceCollection().AddLogging().AddInfluxMetrics(configuration).BuildServiceProvider();

        var exception = Assert.Throws<FormatException>(services.GetRequiredService<InfluxMetricsWriter>);
        Assert.Equal("ConnectionStrings:influxdb: the connection string is missing or empty.", exception.Message);
    }

    [Fact]
    public void Invalid_settings_fail_at_resolution_naming_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:influxdb"] = "Url=http://127.0.0.1:8086;Database=db",
            ["Influx:MaxBatchSize"] = "0",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddInfluxMetrics(configuration).BuildServiceProvider();

        var exception = Assert.Throws<ArgumentException>(services.GetRequiredService<InfluxMetricsWriter>);
        Assert.Equal("Influx:MaxBatchSize must be positive (was 0).", exception.Message);
    }
}
