using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using LvsEvents.Influx;
using Xunit.Abstractions;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>
/// The real <c>lvs-ipvs-writer</c> process (nftables in a lab's director namespace, real broker, real InfluxDB in a
/// private database): under real traffic its statistics poller writes points that every traffic panel of the kernel
/// dashboard finds, and its Prometheus endpoint shows the same numbers as gauges.
/// </summary>
public sealed partial class KernelStatisticsProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Short = 240;
    private const int Held = 24;
    private readonly WriterLab _lab = new(realServers: 3);
    private readonly string _directory = Directory.CreateTempSubdirectory("lvw-kstat-").FullName;
    private readonly string _database = $"lvs_kstat_{Guid.NewGuid():N}";
    private readonly ConcurrentQueue<string> _log = new();
    private readonly List<IDisposable> _servers = [];
    private InfluxQueryClient _influx = null!;
    private string _influxConnection = null!;
    private Process? _writer;

    public async Task InitializeAsync()
    {
        try
        {
            var shared = Environment.GetEnvironmentVariable("ConnectionStrings__influxdb") is { Length: > 0 } s
                ? s
                : throw new InvalidOperationException("ConnectionStrings__influxdb is not set: run ./test.sh, or eval \"$(bash scripts/stack.sh env)\" after scripts/stack.sh start.");
            Assert.True(InfluxEndpoint.Parse(shared).ApiVersion == InfluxApiVersion.V1, "this test creates a private database, which needs an InfluxDB 1.x endpoint");
            _influxConnection = DatabaseSetting().Replace(shared, $"Database={_database}");
            _influx = new InfluxQueryClient(new HttpClient { Timeout = TimeSpan.FromSeconds(20) }, InfluxEndpoint.Parse(_influxConnection));
            await _influx.QueryAsync($"CREATE DATABASE \"{_database}\"", CancellationToken.None);
        }
        catch
        {
            // The lab's namespaces exist already (made with the class): do not leave them behind.
            _lab.Dispose();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_writer is { HasExited: false })
        {
            _writer.Kill(true);
            _writer.WaitForExit(5000);
        }

        _writer?.Dispose();
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        _lab.Dispose();
        Directory.Delete(_directory, true);
        await _influx.QueryAsync($"DROP DATABASE \"{_database}\"", CancellationToken.None);
    }

    [GeneratedRegex("Database=[^;]*", RegexOptions.IgnoreCase)]
    private static partial Regex DatabaseSetting();

    [Fact(Timeout = 180_000)]
    public async Task The_writer_process_charts_real_traffic_in_influxdb_for_every_kernel_panel_and_exports_it_to_prometheus()
    {
        var broker = Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq") is { Length: > 0 } b
            ? b
            : throw new InvalidOperationException("ConnectionStrings__rabbitmq is not set: run ./test.sh, or eval \"$(bash scripts/stack.sh env)\".");
        WriterLab.Run("ip", $"netns exec {_lab.Director} sysctl -qw net.netfilter.nf_conntrack_acct=1");
        for (var i = 1; i <= 3; i++)
        {
            _lab.StartHttp(i, 8080);
            _servers.Add(new HoldingServer(_lab.RealServerNamespaces[i - 1], 9090));
        }

        var config = Path.Combine(_directory, "keepalived.conf");
        await File.WriteAllTextAsync(config, $$"""
            virtual_server {{_lab.Vip}} 80 {
                lb_algo wrr
                lb_kind NAT
                protocol TCP
                real_server {{_lab.RealServer(1)}} 8080 {
                    weight 3
                }
                real_server {{_lab.RealServer(2)}} 8080 {
                    weight 2
                }
                real_server {{_lab.RealServer(3)}} 8080 {
                    weight 1
                }
            }
            virtual_server {{_lab.Vip}} 90 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server {{_lab.RealServer(1)}} 9090 {
                    weight 1
                }
                real_server {{_lab.RealServer(2)}} 9090 {
                    weight 1
                }
                real_server {{_lab.RealServer(3)}} 9090 {
                    weight 1
                }
            }
            """);

        var prometheusPort = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "lvs-ipvs-writer.dll"), "--config", config, "--backend", "nftables",
                     "--IpvsWriter:NetworkNamespace", _lab.Director, "--IpvsWriter:QueueExpiry", "00:00:30", "--IpvsWriter:StatisticsInterval", "00:00:01",
                     "--Metrics:PrometheusPort", prometheusPort.ToString(CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = broker;
        start.Environment["ConnectionStrings__influxdb"] = _influxConnection;
        start.Environment["Influx__FlushInterval"] = "00:00:00.500";
        start.Environment["Eventing__NodeId"] = _lab.Id;
        start.Environment["Eventing__SpoolDirectory"] = Path.Combine(_directory, "spool");
        start.Environment["Eventing__RunDirectory"] = _directory;
        _writer = Process.Start(start)!;
        _writer.OutputDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _writer.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _writer.BeginOutputReadLine();
        _writer.BeginErrorReadLine();
        try
        {
            Assert.True(await LogShows("Resync through nftables", TimeSpan.FromSeconds(30)), "no first resync");

            // Traffic spread over a few polls, then connections held open.
            var answers = new List<string>();
            for (var batch = 0; batch < 4; batch++)
            {
                answers.AddRange(_lab.Fetch(_lab.Vip, 80, Short / 4));
                await Task.Delay(700);
            }

            using var held = new HeldConnections(_lab.Client, _lab.Vip, 90, Held);
            var vip80 = $"TCP/{_lab.Vip}:80";
            var vip90 = $"TCP/{_lab.Vip}:90";

            // Prometheus: the gauges as the last poll saw them (bounded wait for a poll after the connections opened).
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            Dictionary<string, double> metrics = [];
            for (var attempt = 0; attempt < 40; attempt++)
            {
                metrics = ParseMetrics(await http.GetStringAsync($"http://127.0.0.1:{prometheusPort}/metrics"));
                if (metrics.GetValueOrDefault(Series("kernel_service_active_connections", vip90)) == Held
                    && metrics.GetValueOrDefault(Series("kernel_service_connections", vip80)) == Short)
                {
                    break;
                }

                await Task.Delay(250);
            }

            foreach (var line in metrics.Where(m => m.Key.StartsWith("kernel_", StringComparison.Ordinal)).OrderBy(m => m.Key).Take(60))
            {
                output.WriteLine($"{line.Key} {line.Value}");
            }

            Assert.Equal(Held, metrics.GetValueOrDefault(Series("kernel_service_active_connections", vip90)));
            Assert.Equal(Short, metrics.GetValueOrDefault(Series("kernel_service_connections", vip80)));
            for (var i = 1; i <= 3; i++)
            {
                var rs = $"{_lab.RealServer(i)}:8080";
                // conntrack's count of what each server answered; a dump that runs while connections open is not a
                // snapshot, so one may miss a rare entry (the service's count above is the kernel's exact counter).
                var answered = answers.Count(a => a == $"rs{i}");
                var counted = metrics.GetValueOrDefault(Series("kernel_destination_connections", vip80, rs));
                output.WriteLine($"{rs}: answered {answered}, counted {counted}");
                Assert.InRange(counted, answered - Math.Max(3, answered * 0.03), answered);
                Assert.True(metrics.GetValueOrDefault(Series("kernel_destination_in_packets", vip80, rs)) > 0, $"{rs}: no packets");
                Assert.Equal(4 - i, metrics.GetValueOrDefault(Series("kernel_destination_weight", vip80, rs)));
                Assert.True(metrics.ContainsKey(Series("kernel_destination_connections_per_second", vip80, rs)), $"{rs}: no rate");
                Assert.True(metrics.GetValueOrDefault(Series("kernel_destination_active_connections", vip90, $"{_lab.RealServer(i)}:9090")) > 0);
            }

            // InfluxDB: every traffic panel of the kernel dashboard returns series; the numbers are the kernel's.
            var dashboard = Path.Combine(RepositoryRoot(), "compose", "grafana", "dashboards", "kernel.json");
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(dashboard));
            var queries = json.RootElement.GetProperty("panels").EnumerateArray()
                .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (Panel: p.GetProperty("title").GetString()!, Query: t.GetProperty("query").GetString()!)))
                .Where(q => q.Query.Contains("\"kernel_service\"", StringComparison.Ordinal) || q.Query.Contains("\"kernel_destination\"", StringComparison.Ordinal))
                .ToList();
            Assert.True(queries.Count >= 7, $"the kernel dashboard has {queries.Count} traffic queries");
            foreach (var (panel, query) in queries)
            {
                var influxQl = query.Replace("$timeFilter", "time > now() - 10m", StringComparison.Ordinal).Replace("$__interval", "1s", StringComparison.Ordinal);
                IReadOnlyList<InfluxSeries> series = [];
                for (var attempt = 0; attempt < 20 && !HasData(series); attempt++)
                {
                    series = await _influx.QueryAsync(influxQl, CancellationToken.None);
                    if (!HasData(series))
                    {
                        await Task.Delay(500);
                    }
                }

                Assert.True(HasData(series), $"panel '{panel}' returned no data:\n{influxQl}");
                output.WriteLine($"panel '{panel}': {series.Count} series");
            }

            // Points reach InfluxDB a flush after the poll: wait (bounded) for the one that saw the held connections.
            Assert.Equal(Held, await MaxAsync($"SELECT max(\"active_connections\") FROM \"kernel_service\" WHERE \"virtual_service\" = '{vip90}'", Held));
            Assert.Equal(Short, await MaxAsync($"SELECT max(\"connections\") FROM \"kernel_service\" WHERE \"virtual_service\" = '{vip80}'", Short));
            var rate = await _influx.QueryAsync($"SELECT max(\"connections_per_second\") FROM \"kernel_destination\" WHERE \"virtual_service\" = '{vip80}'", CancellationToken.None);
            output.WriteLine($"max connections/s of one real server: {Assert.Single(rate).Get(0, "max").GetDouble():0.0}");
            Assert.True(Assert.Single(rate).Get(0, "max").GetDouble() > 0);
        }
        finally
        {
            foreach (var line in _log)
            {
                output.WriteLine(line);
            }
        }
    }

    private async Task<long> MaxAsync(string query, long expected)
    {
        var max = -1L;
        for (var attempt = 0; attempt < 40 && max != expected; attempt++)
        {
            var series = await _influx.QueryAsync(query, CancellationToken.None);
            max = series.Count == 1 ? series[0].Get(0, "max").GetInt64() : -1;
            if (max != expected)
            {
                await Task.Delay(250);
            }
        }

        return max;
    }

    private string Series(string name, string virtualService, string? realServer = null) =>
        $"{name}{{node=\"{_lab.Id}\",backend=\"nftables\",virtual_service=\"{virtualService}\"{(realServer is null ? "" : $",real_server=\"{realServer}\"")}}}";

    /// <summary>Prometheus text format: <c>name{labels} value</c> per line, comments skipped.</summary>
    private static Dictionary<string, double> ParseMetrics(string text) => text.Split('\n')
        .Where(l => l.Length > 0 && l[0] != '#' && l.LastIndexOf(' ') > 0)
        .ToDictionary(l => l[..l.LastIndexOf(' ')], l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static bool HasData(IReadOnlyList<InfluxSeries> series) =>
        series.Any(s => s.Values.Any(row => row.Skip(1).Any(v => v.ValueKind is not JsonValueKind.Null)));

    private async Task<bool> LogShows(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !_writer!.HasExited)
        {
            if (_log.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "compose", "grafana", "dashboards", "kernel.json")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no compose/grafana/dashboards/kernel.json above {AppContext.BaseDirectory}");
    }
}
