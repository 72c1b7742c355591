using LvsEvents.Contracts;
using LvsEvents.TestInfrastructure;
using LvsEvents.Vrrp.Tests.Directors;
using Xunit.Abstractions;

namespace LvsEvents.Vrrp.Tests;

/// <summary>
/// <c>lvsctl drill backend-outage</c> against a live director in namespaces this test creates: real HTTP real servers,
/// the real lvs-health (probing from the director's namespace, Drills:Allowed), lvs-ipvs-writer (nftables in that
/// namespace) and lvs-recovery (a short slow start), real bus and store. It passes on the healthy lab (down, taken out
/// of the kernel, up, ramped back to full weight), and fails with its reason when the writer is not running.
/// </summary>
public sealed class BackendOutageDrillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly NetworkLab _network = new();
    private readonly List<ServiceProcess> _services = [];
    private BusTap _bus = null!;
    private RecordedStore _store = null!;
    private string _config = "";

    private string Node => _network.Id + "-dir";
    private string Vip => _network.Address(100).ToString();
    private string Rs(int i) => _network.Address(20 + i).ToString();
    private RealServerRef Server => new(VirtualServiceRef.Tcp(Vip, 80), Rs(1), 8080);

    public async Task InitializeAsync()
    {
        _bus = await BusTap.StartAsync();
        _store = await RecordedStore.StartAsync(_bus, e => e.NodeId == Node || e is DrillCommand);
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            output.WriteLine($"--- {service.Name}\n{service.OutputText}");
            await service.DisposeAsync();
        }

        _network.Dispose();
        await _store.DisposeAsync();
        await _bus.DisposeAsync();
        if (_config.Length > 0)
            File.Delete(_config);
    }

    [Fact(Timeout = 120_000)]
    public async Task Backend_outage_drill_passes_the_server_is_taken_out_and_ramps_back_to_full_weight()
    {
        await StartLabAsync(writer: true);
        var (exit, report) = await DrillAsync();
        Assert.True(exit == 0, report);
        Assert.Contains($"drill backend-outage {Server}: PASS", report, StringComparison.Ordinal);
        Assert.Contains("traffic redistributed", report, StringComparison.Ordinal);
        Assert.Contains($"recovery completed: {Server} at full weight 20 in the kernel", report, StringComparison.Ordinal);
        Assert.Contains("(kernel weights 10 → 20)", report, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Backend_outage_drill_fails_with_its_reason_when_the_writer_is_not_running()
    {
        var writer = await StartLabAsync(writer: true);
        await writer!.DisposeAsync();
        _services.Remove(writer);
        var (exit, report) = await DrillAsync();
        Assert.Equal(1, exit);
        Assert.Contains($"{Server} down", report, StringComparison.Ordinal);
        Assert.Contains($"FAIL: traffic was not redistributed: no kernel.rule-applied took {Server} out", report, StringComparison.Ordinal);
    }

    private async Task<ServiceProcess?> StartLabAsync(bool writer)
    {
        var director = _network.AddNode("dir", 1);
        foreach (var i in new[] { 1, 2 })
        {
            var rs = _network.AddNode($"rs{i}", 20 + i);
            rs.Start("python3", "-m", "http.server", "8080", "--bind", Rs(i));
        }

        _config = Path.Combine(Path.GetTempPath(), $"lvd-{_network.Id}.conf");
        await File.WriteAllTextAsync(_config, $$"""
            virtual_server {{Vip}} 80 {
                delay_loop 0.3
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server {{Rs(1)}} 8080 {
                    weight 20
                    TCP_CHECK {
                        connect_timeout 0.3
                        retry 1
                        delay_before_retry 0.1
                    }
                }
                real_server {{Rs(2)}} 8080 {
                    weight 10
                    TCP_CHECK {
                        connect_timeout 0.3
                        retry 1
                        delay_before_retry 0.1
                    }
                }
            }
            """);
        var broker = await TestServers.RabbitMqAsync();
        ServiceProcess? started = null;
        if (writer)
        {
            started = ServiceProcess.Start("writer", "lvs-ipvs-writer.dll", Node, broker,
                ["--config", _config, "--backend", "nftables", $"--IpvsWriter:NetworkNamespace={director.Namespace}", "--IpvsWriter:QueueExpiry=00:01:00"]);
            _services.Add(started);
        }

        _services.Add(ServiceProcess.Start("recovery", "lvs-recovery.dll", Node, broker,
            ["--config", _config, "--Recovery:SlowStart:Steps=50,100", "--Recovery:SlowStart:Interval=00:00:01", "--Recovery:TickInterval=00:00:00.200", "--Recovery:QueueExpiry=00:01:00"]));
        _services.Add(ServiceProcess.Start("health", "lvs-health.dll", Node, broker,
            ["--config", _config, $"--Health:NetworkNamespace={director.Namespace}", "--Drills:Allowed=true"]));
        await _bus.WaitForAsync<KernelRuleApplied>(Node, e => e.RealServer == Server && e.After is { } rule && rule.Contains("-w 20", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), "the writer programs the server at weight 20");
        await _bus.WaitForAsync<ServiceStarted>(Node, e => e.Service == "health", TimeSpan.FromSeconds(30), "health started");
        await _bus.WaitForAsync<ServiceStarted>(Node, e => e.Service == "recovery", TimeSpan.FromSeconds(30), "recovery started");
        await _store.WaitForAsync(all => all.OfType<KernelRuleApplied>().Any(), TimeSpan.FromSeconds(10));
        await Task.Delay(1000);
        return started;
    }

    private async Task<(int Exit, string Report)> DrillAsync()
    {
        Environment.SetEnvironmentVariable(TestServers.EventStoreVariable, await TestServers.EventStoreAsync());
        Environment.SetEnvironmentVariable(TestServers.RabbitMqVariable, await TestServers.RabbitMqAsync());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await Task.Run(() => LvsEvents.Lvsctl.Program.Run(
            ["drill", "backend-outage", "--service", $"{Vip}:80", "--server", $"{Rs(1)}:8080", "--duration", "3s", "--detect-within", "10s",
             "--recovery-within", "20s", "--schema", _store.Schema, "--grace", "2s"], stdout, stderr));
        var report = stdout + stderr.ToString();
        output.WriteLine(report);
        return (exit, report);
    }
}
