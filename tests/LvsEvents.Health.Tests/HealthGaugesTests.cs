using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace LvsEvents.Health.Tests;

/// <summary>
/// <c>lvs-health</c>'s /metrics: per real server health state and weight, and per checker the last probe's latency and
/// result, under the monitor's InfluxDB names (probe_*, real_server_health_up, real_server_weight_weight).
/// </summary>
public class HealthGaugesTests
{
    [Fact(Timeout = 90_000)]
    public async Task Metrics_show_each_real_servers_health_weight_and_last_probe()
    {
        var directory = Directory.CreateTempSubdirectory("lvs-health-gauges-").FullName;
        await using var server = new TestHttpServer();
        var closed = Loopback.ClosedTcpPort();
        var config = Path.Combine(directory, "keepalived.conf");
        await File.WriteAllTextAsync(config, $$"""
            virtual_server 127.76.2.1 80 {
                delay_loop 0.2
                protocol TCP
                real_server {{server.Endpoint.Address}} {{server.Endpoint.Port}} {
                    weight 3
                    HTTP_GET {
                        url { path / status_code 200 }
                        connect_timeout 0.5
                    }
                }
                real_server {{closed.Address}} {{closed.Port}} {
                    weight 2
                    inhibit_on_failure
                    TCP_CHECK {
                        connect_timeout 0.5
                        retry 0
                    }
                }
            }
            """);
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "lvs-health.dll"), "--config", config, $"--Metrics:PrometheusPort={port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                // No broker: gauges do not depend on the bus.
                ["ConnectionStrings__rabbitmq"] = "amqp://guest:guest@127.0.0.1:1/none",
                ["Eventing__SpoolDirectory"] = Path.Combine(directory, "spool"),
                ["Eventing__RunDirectory"] = Path.Combine(directory, "run"),
                ["Eventing__NodeId"] = "gauge-director",
            },
        };
        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            const string service = "TCP/127.76.2.1:80";
            var up = $"{server.Endpoint.Address}:{server.Endpoint.Port}";
            var down = $"{closed.Address}:{closed.Port}";
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var text = "";
            var labels = (string rs) => $@"node=""gauge-director"",virtual_service=""{Regex.Escape(service)}"",real_server=""{Regex.Escape(rs)}""";
            // The process starts, probes and fails the closed port's checker; a busy machine takes a while.
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                try
                {
                    text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
                }
                catch (HttpRequestException)
                {
                }

                // Every gauge the test checks, not just one: a scrape can see the engine's state before the
                // probe result that caused it (results reach the gauges through the emitter, in groups).
                if (Regex.IsMatch(text, $@"(?m)^real_server_health_up\{{{labels(down)}\}} 0$") && Regex.IsMatch(text, $@"(?m)^probe_latency_ms\{{{labels(up)},checker=""HTTP_GET")
                    && Regex.IsMatch(text, $@"(?m)^real_server_health_up\{{{labels(up)}\}} 1$") && Regex.IsMatch(text, $@"(?m)^real_server_weight_weight\{{{labels(up)}\}} 3$")
                    && Regex.IsMatch(text, $@"(?m)^real_server_weight_weight\{{{labels(down)}\}} 0$") && Regex.IsMatch(text, $@"(?m)^probe_success\{{{labels(up)},checker=""HTTP_GET [^""]+""\}} 1$")
                    && Regex.IsMatch(text, $@"(?m)^probe_success\{{{labels(down)},checker=""TCP_CHECK [^""]+""\}} 0$"))
                {
                    break;
                }

                await Task.Delay(250);
            }

            Assert.False(process.HasExited, "lvs-health exited:\n" + string.Join('\n', output));
            Assert.Matches($@"(?m)^real_server_health_up\{{{labels(up)}\}} 1$", text);
            Assert.Matches($@"(?m)^real_server_health_up\{{{labels(down)}\}} 0$", text);
            Assert.Matches($@"(?m)^real_server_weight_weight\{{{labels(up)}\}} 3$", text);
            Assert.Matches($@"(?m)^real_server_weight_weight\{{{labels(down)}\}} 0$", text);
            Assert.Matches($@"(?m)^probe_success\{{{labels(up)},checker=""HTTP_GET [^""]+""\}} 1$", text);
            Assert.Matches($@"(?m)^probe_success\{{{labels(down)},checker=""TCP_CHECK [^""]+""\}} 0$", text);
            var latency = Regex.Match(text, $@"(?m)^probe_latency_ms\{{{labels(up)},checker=""HTTP_GET [^""]+""\}} (\S+)$");
            Assert.True(latency.Success, text);
            Assert.InRange(double.Parse(latency.Groups[1].Value, CultureInfo.InvariantCulture), 0.001, 500);
        }
        finally
        {
            Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!process.WaitForExit(15_000))
            {
                process.Kill(entireProcessTree: true);
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
