using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using LvsEvents.Contracts;
using LvsEvents.Influx;
using LvsEvents.IpvsWriter.Statistics;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Monitor.Metrics;
using LvsEvents.TestInfrastructure;
using LvsEvents.Vrrp.Protocol;
using LvsEvents.Vrrp.Speaking;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LvsEvents.Monitor.Tests;

/// <summary>
/// Every panel (and annotation) of the provisioned Grafana dashboards, run as InfluxQL against the real
/// InfluxDB after the product's own point builders wrote an hour of a director pair's events into a private
/// database: each query must parse and return data, so no panel ships empty or broken.
/// </summary>
public sealed partial class DashboardQueryTests : IAsyncLifetime
{
    private readonly string _database = $"lvs_dashboards_{Guid.NewGuid():N}";
    private InfluxQueryClient _query = null!;
    private string _connectionString = null!;

    public async Task InitializeAsync()
    {
        var shared = await TestServers.InfluxDbAsync();
        var endpoint = InfluxEndpoint.Parse(shared);
        Assert.True(endpoint.ApiVersion == InfluxApiVersion.V1,
            "these tests create a private database, which needs an InfluxDB 1.x endpoint (Url=...;Database=...)");
        _connectionString = DatabaseSetting().Replace(shared, $"Database={_database}");
        _query = new InfluxQueryClient(new HttpClient { Timeout = TimeSpan.FromSeconds(20) }, InfluxEndpoint.Parse(_connectionString));
        await _query.QueryAsync($"CREATE DATABASE \"{_database}\"", CancellationToken.None);
    }

    public async Task DisposeAsync() => await _query.QueryAsync($"DROP DATABASE \"{_database}\"", CancellationToken.None);

    [GeneratedRegex("Database=[^;]*", RegexOptions.IgnoreCase)]
    private static partial Regex DatabaseSetting();

    public static TheoryData<string> Dashboards() => new(DashboardFiles());

    private static IEnumerable<string> DashboardFiles() => Directory.GetFiles(DashboardFolder, "*.json").Select(f => Path.GetFileName(f)).Order();

    private static string DashboardFolder => Path.Combine(RepositoryRoot.Path, "compose", "grafana", "dashboards");

    [Fact]
    public void The_four_dashboards_are_provisioned()
        => Assert.Equal(["kernel.json", "overview.json", "pipeline.json", "real-servers.json"], DashboardFiles());

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Dashboards))]
    public async Task Every_panel_query_returns_data(string dashboard)
    {
        await WriteAnHourOfTheLabAsync();
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DashboardFolder, dashboard)));
        var queries = json.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (What: $"panel '{p.GetProperty("title").GetString()}'", Query: t.GetProperty("query").GetString()!)))
            .Concat(json.RootElement.GetProperty("annotations").GetProperty("list").EnumerateArray()
                .Select(a => (What: $"annotation '{a.GetProperty("name").GetString()}'", Query: a.GetProperty("query").GetString()!)))
            .ToList();
        Assert.NotEmpty(queries);
        foreach (var (what, query) in queries)
        {
            // What Grafana substitutes for a one-hour range.
            var influxQl = query.Replace("$timeFilter", "time > now() - 1h", StringComparison.Ordinal).Replace("$__interval", "1m", StringComparison.Ordinal);
            IReadOnlyList<InfluxSeries> series;
            try
            {
                series = await _query.QueryAsync(influxQl, CancellationToken.None);
            }
            catch (InfluxQueryException e)
            {
                Assert.Fail($"{dashboard}: {what} does not run: {e.Message}\n{influxQl}");
                return;
            }
            var withData = series.Where(s => s.Values.Any(row => row.Skip(1).Any(v => v.ValueKind is not JsonValueKind.Null))).ToList();
            Assert.True(withData.Count > 0, $"{dashboard}: {what} returned no data:\n{influxQl}");
        }
    }

    /// <summary>
    /// An hour of a director pair: every event type each minute from both directors (the shapes the services
    /// emit), probe results every 10 s for three real servers, and the monitor's and lvs-vrrp's own points.
    /// </summary>
    private async Task WriteAnHourOfTheLabAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:influxdb"] = _connectionString,
            ["Influx:FlushInterval"] = "00:00:00.200",
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddInfluxMetrics(configuration).BuildServiceProvider();
        var writer = services.GetRequiredService<InfluxMetricsWriter>();
        await writer.StartAsync(CancellationToken.None);
        var start = DateTimeOffset.UtcNow.AddMinutes(-55);
        var rejections = new RejectionCounters();
        var accepted = 0;
        KernelStatisticsSample? kernel = null;
        for (var minute = 0; minute < 55; minute++)
        {
            var at = start.AddMinutes(minute);
            var batch = new List<LvsEvent>();
            foreach (var node in new[] { "director-1", "director-2" })
                batch.AddRange(SampleEvents.OneOfEach(node, at));
            for (var second = 0; second < 60; second += 10)
            {
                for (var rs = 0; rs < 3; rs++)
                {
                    var server = new RealServerRef(SampleEvents.Service, $"192.168.1.{20 + rs}", 80);
                    var failing = rs == 2 && minute is >= 20 and < 25;
                    batch.Add(new ProbeCompleted
                    {
                        RealServer = server, Checker = "TCP_CHECK", Success = !failing, Latency = TimeSpan.FromMilliseconds(0.3 + rs + second / 100.0),
                        Error = failing ? ProbeErrorClass.Refused : ProbeErrorClass.None, NodeId = "director-1", Service = "health", OccurredAt = at.AddSeconds(second),
                    });
                }
            }
            foreach (var e in batch)
                accepted += writer.TryWrite(EventPoint.From(e)) ? 1 : 0;
            accepted += writer.TryWrite(PipelinePoint.From(batch, at.AddSeconds(2), writer.GetStatus())) ? 1 : 0;
            accepted += writer.TryWrite(AdvertCountersPoint.From("director-1", "VI_1", 51, VrrpState.Master, 100, minute * 60, 0, rejections, at)) ? 1 : 0;
            accepted += writer.TryWrite(AdvertCountersPoint.From("director-2", "VI_1", 51, VrrpState.Backup, 90, 0, minute * 60, rejections, at)) ? 1 : 0;
            kernel = KernelStatisticsSample.From(KernelTableAt(minute), "nftables", at, kernel);
            foreach (var point in KernelStatisticsPoints.From("director-1", kernel))
                accepted += writer.TryWrite(point) ? 1 : 0;
        }
        await writer.StopAsync(CancellationToken.None);
        var status = writer.GetStatus();
        Assert.Equal(accepted, (int)status.Written);
    }

    /// <summary>The lab's service (wrr 3:2:1) with the counters the IPVS writer reads after <paramref name="minute"/> minutes of traffic.</summary>
    private static KernelTable KernelTableAt(int minute)
    {
        var key = new ServiceKey("TCP", SampleEvents.Service.Address, SampleEvents.Service.Port);
        var destinations = Enumerable.Range(0, 3).Select(rs => new KernelDestination(new DestinationKey($"192.168.1.{20 + rs}", 80), 3 - rs)).ToList();
        var table = KernelTable.Of([KernelService.Create(key, "wrr", null, null, destinations)]);
        var statistics = destinations.ToDictionary(d => (key, d.Key), d =>
        {
            long connections = minute * 600L * d.Weight;
            return new TrafficStatistics(connections, connections * 6, connections * 5, connections * 360, connections * 4000, 40L * d.Weight, 7L * d.Weight);
        });
        return table with
        {
            ServiceStatistics = ImmutableDictionary<ServiceKey, TrafficStatistics>.Empty.Add(key, new TrafficStatistics(minute * 3600L)),
            DestinationStatistics = statistics.ToImmutableDictionary(),
        };
    }
}
