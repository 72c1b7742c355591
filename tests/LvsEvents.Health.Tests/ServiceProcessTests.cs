using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.Eventing.Spool;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.Health.Tests;

/// <summary><c>lvs-health --config FILE</c> as a process: it checks, and spools every result, with no broker to talk to.</summary>
public class ServiceProcessTests
{
    [Fact]
    public async Task Lvs_health_probes_and_spools_every_result_while_the_bus_is_down_and_reloads_on_sighup()
    {
        var directory = Directory.CreateTempSubdirectory("lvs-health-process-").FullName;
        await using var server = new TestHttpServer();
        await using var added = new TestHttpServer();
        var closed = Loopback.ClosedTcpPort();
        var config = Path.Combine(directory, "keepalived.conf");
        string Config(string extra) => $$"""
            global_defs {
                router_id test-director
            }
            virtual_server 127.76.1.1 80 {
                delay_loop 0.2
                protocol TCP
                real_server {{server.Endpoint.Address}} {{server.Endpoint.Port}} {
                    HTTP_GET {
                        url { path / status_code 200 }
                        connect_timeout 0.5
                    }
                }
                real_server {{closed.Address}} {{closed.Port}} {
                    TCP_CHECK {
                        connect_timeout 0.5
                        retry 0
                    }
                }
                {{extra}}
            }
            """;
        await File.WriteAllTextAsync(config, Config(""));
        var spool = Path.Combine(directory, "spool");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "lvs-health.dll"), "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                // Nothing listens on port 1: the bus stays down for the whole test.
                ["ConnectionStrings__rabbitmq"] = "amqp://guest:guest@127.0.0.1:1/none",
                ["Eventing__SpoolDirectory"] = spool,
                ["Eventing__RunDirectory"] = Path.Combine(directory, "run"),
                ["Eventing__NodeId"] = "test-director",
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
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (server.Connections < 5 && DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }

            Assert.True(server.Connections >= 5, "lvs-health did not probe: " + string.Join('\n', output));

            // SIGHUP after adding a real server: it gets checked too.
            await File.WriteAllTextAsync(config, Config($$"""
                real_server {{added.Endpoint.Address}} {{added.Endpoint.Port}} {
                    HTTP_GET {
                        url { path / status_code 200 }
                        connect_timeout 0.5
                    }
                }
                """));
            Process.Start("kill", ["-HUP", process.Id.ToString()])!.WaitForExit();
            while (added.Connections < 3 && DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }

            Assert.True(added.Connections >= 3, "the reload did not add the real server: " + string.Join('\n', output));
            await Task.Delay(500);
        }
        finally
        {
            // SIGTERM, as systemd stops it; then read what it spooled.
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            if (!process.WaitForExit(15_000))
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var events = new List<LvsEvent>();
        await using (var reader = DurableEventSpool.Open(Path.Combine(spool, "health"), NullLogger.Instance))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            while (events.Count == 0 || reader.Depth > events.Count)
            {
                events.AddRange((await reader.ReadAsync(10_000, timeout.Token)).Select(r => EventJson.Deserialize(r.Payload.Span)));
            }
        }

        try
        {
            var probes = events.OfType<ProbeCompleted>().ToList();
            Assert.Contains(probes, p => p.Success && p.Checker.StartsWith("HTTP_GET", StringComparison.Ordinal));
            Assert.Contains(probes, p => p.Error == ProbeErrorClass.Refused);
            Assert.Contains(events.OfType<RealServerHealthChanged>(), c => c.RealServer.Port == closed.Port && c.To == HealthState.Down);
            Assert.All(events, e => Assert.Equal("test-director", e.NodeId));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
