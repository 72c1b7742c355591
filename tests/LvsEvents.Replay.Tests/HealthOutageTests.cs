using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LvsEvents.Contracts;
using LvsEvents.TestInfrastructure;
using LvsEvents.TestInfrastructure.Network;

namespace LvsEvents.Replay.Tests;

/// <summary>
/// A real-server outage from the real health service: lvs-health as its own process, publishing on the real bus,
/// TCP_CHECKs a listener of this test; the listener is closed for a while and opened again. Its events, recorded
/// into a schema of our own, must give the outage back in state at and the postmortem.
/// </summary>
public sealed class HealthOutageTests : IAsyncLifetime
{
    private ReplayStore _store = null!;
    private BusTap _bus = null!;
    private readonly string _directory = Directory.CreateTempSubdirectory("replay-health-").FullName;

    public async Task InitializeAsync()
    {
        _store = await ReplayStore.CreateAsync();
        _bus = await BusTap.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _bus.DisposeAsync();
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact(Timeout = 90_000)]
    public async Task An_outage_seen_by_lvs_health_is_in_state_at_and_in_the_postmortem_with_its_duration()
    {
        var node = "replay-health-" + Guid.NewGuid().ToString("N")[..8];
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var config = Path.Combine(_directory, "keepalived.conf");
        await File.WriteAllTextAsync(config, $$"""
            global_defs {
                router_id {{node}}
            }
            virtual_server 127.77.1.1 80 {
                delay_loop 0.3
                protocol TCP
                real_server 127.0.0.1 {{port}} {
                    weight 3
                    TCP_CHECK {
                        connect_timeout 0.3
                        retry 0
                    }
                }
            }
            """);
        // lvs-health as built in the same configuration as this test assembly (the project reference builds it).
        var configuration = AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var start = new ProcessStartInfo("dotnet", [Path.Combine(RepositoryRoot.Path, "services", "health", "bin", configuration, "net10.0", "lvs-health.dll"), "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ConnectionStrings__rabbitmq"] = await TestServers.RabbitMqAsync(),
                ["Eventing__SpoolDirectory"] = Path.Combine(_directory, "spool"),
                ["Eventing__RunDirectory"] = Path.Combine(_directory, "run"),
                ["Eventing__NodeId"] = node,
            },
        };
        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var accepting = AcceptAsync(listener);
        try
        {
            string Log() => string.Join('\n', output);
            await WaitAsync<ProbeCompleted>(node, p => p.Success, "a good probe", Log);
            await Task.Delay(1000);
            listener.Stop();
            var down = await WaitAsync<RealServerHealthChanged>(node, h => h.To == HealthState.Down, "down", Log);
            await Task.Delay(1500);
            listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            accepting = AcceptAsync(listener);
            var up = await WaitAsync<RealServerHealthChanged>(node, h => h.To == HealthState.Up && h.OccurredAt > down.OccurredAt, "up again", Log);
            await Task.Delay(1000);

            var events = _bus.Events.Where(e => e.NodeId == node).ToList();
            await _store.RecordAsync(events);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var projection = _store.Projection(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200));
            await projection.RebuildAsync(cancel.Token);
            var rs = ClusterView.EndpointOf(down.RealServer);
            var vs = down.RealServer.VirtualService.ToString();
            var during = await projection.StateAtAsync(down.OccurredAt + (up.OccurredAt - down.OccurredAt) / 2, cancel.Token);
            Assert.Equal(HealthState.Down, during.View.VirtualServices[vs].RealServers[rs].Health);
            var after = await projection.StateAtAsync(up.OccurredAt + TimeSpan.FromMilliseconds(500), cancel.Token);
            Assert.Equal(HealthState.Up, after.View.VirtualServices[vs].RealServers[rs].Health);
            Assert.Equal(ReplayStore.Fold(events, up.OccurredAt + TimeSpan.FromMilliseconds(500)).ToJson(), after.View.ToJson());

            var report = await new PostmortemBuilder(projection).BuildAsync(down.OccurredAt - TimeSpan.FromSeconds(2), up.OccurredAt + TimeSpan.FromSeconds(1), cancel.Token);
            var outage = Assert.Single(report.Outages);
            Assert.Equal(down.RealServer.ToString(), outage.RealServer);
            Assert.Equal(up.OccurredAt - down.OccurredAt, outage.Duration);
            Assert.InRange(outage.Duration.TotalSeconds, 1.5, 15);
            if (down.CausingProbes.Count > 0)
            {
                var probes = events.Where(e => down.CausingProbes.Contains(e.EventId)).ToList();
                Assert.Equal(probes.Min(p => p.OccurredAt), outage.FirstFailedProbeAt);
            }

            Assert.True(report.ReducedCapacity >= outage.Duration, $"reduced capacity {report.ReducedCapacity} < outage {outage.Duration}");
        }
        finally
        {
            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
            }

            listener.Stop();
            await accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task<T> WaitAsync<T>(string node, Func<T, bool> match, string what, Func<string> log) where T : LvsEvent
    {
        T? found = null;
        var took = await Poll.Until(() => (found = _bus.Of<T>(node).FirstOrDefault(match)) is not null, TimeSpan.FromSeconds(20));
        Assert.True(took is not null && found is not null, $"no {what} from lvs-health within 20 s; its output:\n{log()}");
        return found!;
    }

    private static async Task AcceptAsync(TcpListener listener)
    {
        try
        {
            while (true)
            {
                using var client = await listener.AcceptTcpClientAsync();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // stopped
        }
    }
}
