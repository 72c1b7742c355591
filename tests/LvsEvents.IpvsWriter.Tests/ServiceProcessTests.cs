using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>
/// The real <c>lvs-ipvs-writer</c> process, with the real broker: it picks nftables on this kernel and says so,
/// programs the director namespace of a lab at start, applies a health event another service publishes on the bus,
/// and leaves the table in place when it stops.
/// </summary>
public sealed class ServiceProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly WriterLab _lab = new(realServers: 3);
    private readonly string _directory = Directory.CreateTempSubdirectory("lvw-writer-").FullName;
    private readonly ConcurrentQueue<string> _log = new();
    private Process? _writer;

    public void Dispose()
    {
        if (_writer is { HasExited: false })
        {
            _writer.Kill(true);
            _writer.WaitForExit(5000);
        }

        _writer?.Dispose();
        _lab.Dispose();
        Directory.Delete(_directory, true);
    }

    private static string Broker() =>
        Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq") is { Length: > 0 } uri
            ? uri
            : throw new InvalidOperationException("ConnectionStrings__rabbitmq is not set: run ./test.sh, or eval \"$(bash scripts/stack.sh env)\" after scripts/stack.sh start.");

    private async Task<bool> LogShows(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_log.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }

            if (_writer!.HasExited)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return false;
    }

    [Fact]
    public async Task The_writer_process_programs_the_kernel_applies_bus_events_and_keeps_the_table_when_stopped()
    {
        var broker = Broker();
        var node = _lab.Id;
        for (var i = 1; i <= 3; i++)
        {
            _lab.StartHttp(i, 8080);
        }

        var config = Path.Combine(_directory, "keepalived.conf");
        await File.WriteAllTextAsync(config, $$"""
            virtual_server {{_lab.Vip}} 80 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server {{_lab.RealServer(1)}} 8080 {
                    weight 1
                }
                real_server {{_lab.RealServer(2)}} 8080 {
                    weight 1
                }
                real_server {{_lab.RealServer(3)}} 8080 {
                    weight 1
                }
            }
            """);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "lvs-ipvs-writer.dll"), "--config", config, "--backend", "auto",
                     "--IpvsWriter:NetworkNamespace", _lab.Director, "--IpvsWriter:QueueExpiry", "00:00:30"])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = broker;
        start.Environment["Eventing__NodeId"] = node;
        start.Environment["Eventing__SpoolDirectory"] = Path.Combine(_directory, "spool");
        start.Environment["Eventing__RunDirectory"] = _directory;
        _writer = Process.Start(start)!;
        _writer.OutputDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _writer.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _writer.BeginOutputReadLine();
        _writer.BeginErrorReadLine();
        try
        {
            Assert.True(await LogShows("Resync through nftables: 4 operations", TimeSpan.FromSeconds(30)), "no first resync");
            Assert.Contains(_log, l => l.Contains("Backend: nftables (this kernel has no IPVS: no /proc/net/ip_vs, no generic netlink family IPVS", StringComparison.Ordinal));
            Assert.Equal(["rs1", "rs2", "rs3"], _lab.Fetch(_lab.Vip, 80, 60).Distinct().Order());

            // Another service (health, same node) publishes through its own spool and the broker.
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:rabbitmq"] = broker,
                ["Eventing:NodeId"] = node,
                ["Eventing:SpoolDirectory"] = Path.Combine(_directory, "health-spool"),
            });
            builder.Services.AddLvsEventing(builder.Configuration, "health");
            using var health = builder.Build();
            await health.StartAsync();
            try
            {
                var emitter = health.Services.GetRequiredService<IEventEmitter>();
                var applied = false;
                // The writer's queue exists once its bus is up; until then a published event has nowhere to go, so
                // publish again (the same health change applied twice changes nothing the second time).
                for (var attempt = 0; attempt < 6 && !applied; attempt++)
                {
                    await emitter.EmitAsync(Config.Down($"TCP/{_lab.Vip}:80", $"{_lab.RealServer(2)}:8080"));
                    applied = await LogShows("health.real-server-health-changed", TimeSpan.FromSeconds(5));
                }

                Assert.True(applied, "the health event never reached the writer:\n" + string.Join('\n', _log));
            }
            finally
            {
                await health.StopAsync();
            }

            Assert.DoesNotContain("rs2", _lab.Fetch(_lab.Vip, 80, 60));

            Kill(_writer.Id, 15);
            Assert.True(_writer.WaitForExit(15_000), "the writer did not stop on SIGTERM");
            Assert.Equal(0, _writer.ExitCode);
            var listing = _lab.Nft("list table ip lvsevents");
            Assert.Contains($"{_lab.RealServer(1)} . 8080", listing);
            Assert.DoesNotContain($"{_lab.RealServer(2)} . 8080", listing);
            Assert.Equal(["rs1", "rs3"], _lab.Fetch(_lab.Vip, 80, 40).Distinct().Order());
        }
        finally
        {
            foreach (var line in _log)
            {
                output.WriteLine(line);
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
