using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Table;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace LvsEvents.Recovery.Tests;

/// <summary>
/// Recovery and the real writer together, on the real broker: the writer programs the nftables table of a network
/// namespace this test creates (<c>lvr-XXXXXX-dir</c>, deleted after); a stand-in health service says a real server went
/// down and came back; the weights read back from the kernel step 2 → 5 → 10 → 20 (10/25/50/100 % of 20), never full
/// weight first; a flapping server is held at weight 0 in the kernel, then ramps once it stayed up.
/// </summary>
public sealed class KernelRampTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _node = "lvr-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private readonly string _directory = Directory.CreateTempSubdirectory("lvr-kernel-").FullName;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly RecoveryProcessTests.Observed _observed = new();
    private readonly List<Process> _processes = [];
    private readonly int _subnet = RandomNumberGenerator.GetInt32(1, 255);
    private IHost? _health;
    private string Namespace => _node + "-dir";
    private string Vip => $"10.78.{_subnet}.100";
    private string Rs(int i) => $"10.79.{_subnet}.{10 + i}";

    public Task InitializeAsync()
    {
        Run("ip", $"netns add {Namespace}");
        Run("ip", $"-n {Namespace} link set lo up");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited)
            {
                p.Kill(true);
                await p.WaitForExitAsync(new CancellationTokenSource(5000).Token);
            }

            p.Dispose();
        }

        if (_health is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _health.StopAsync(stop.Token);
            _health.Dispose();
        }

        Run("ip", $"netns del {Namespace}");
        foreach (var line in _log)
        {
            output.WriteLine(line);
        }

        Directory.Delete(_directory, true);
    }

    [Fact]
    public async Task A_server_that_comes_back_climbs_the_ramp_in_the_kernel()
    {
        var broker = Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq") is { Length: > 0 } uri
            ? uri
            : throw new InvalidOperationException("ConnectionStrings__rabbitmq is not set: run ./test.sh, or eval \"$(bash scripts/stack.sh env)\".");
        var config = Path.Combine(_directory, "keepalived.conf");
        await File.WriteAllTextAsync(config, $$"""
            virtual_server {{Vip}} 80 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server {{Rs(1)}} 8080 {
                    weight 20
                }
                real_server {{Rs(2)}} 8080 {
                    weight 8
                }
            }
            """);
        _health = await StartHealthStandInAsync(broker);
        var writer = Start(broker, "lvs-ipvs-writer.dll", "writer", "--config", config, "--backend", "nftables",
            "--IpvsWriter:NetworkNamespace", Namespace, "--IpvsWriter:QueueExpiry", "00:00:30");
        Start(broker, "lvs-recovery.dll", "recovery", "--config", config, "--Recovery:SlowStart:Steps", "10,25,50,100",
            "--Recovery:SlowStart:Interval", "00:00:02", "--Recovery:TickInterval", "00:00:00.100", "--Recovery:QueueExpiry", "00:00:30",
            "--Recovery:FlapHold:Transitions", "4", "--Recovery:FlapHold:Window", "00:01:00", "--Recovery:FlapHold:Stability", "00:00:03");
        using var kernel = BackendSelector.Create("nftables", NullLogger.Instance, Namespace);
        Assert.True(await Until(async () => await WeightAsync(kernel) == 20, TimeSpan.FromSeconds(30)), "the writer never programmed the table");

        // Until the writer's queue exists, recovery's primed step has nowhere to go.
        var emitter = _health.Services.GetRequiredService<IEventEmitter>();
        await WriterQueueProbe.WaitBoundAsync(emitter, _log, writer);

        // Down, republished (same id) until the writer took it out, recovery primed the first step and the writer took
        // that step (the up below must not overtake it: in service, a down lasts delay_loops, here milliseconds).
        var down = Change(HealthState.Up, HealthState.Down);
        var ready = false;
        for (var attempt = 0; attempt < 20 && !ready; attempt++)
        {
            Assert.False(writer.HasExited, "the writer exited");
            await emitter.EmitAsync(down);
            ready = await Until(async () => await WeightAsync(kernel) is null
                && _observed.All.Where(o => o.Event is SetWeightCommand { Weight: 2 }).Any(o => WriterQueueProbe.Took(_log, o.Event.EventId)), TimeSpan.FromSeconds(2));
        }

        Assert.True(ready, "the server never went out of the table, or recovery never primed its ramp");

        await emitter.EmitAsync(Change(HealthState.Down, HealthState.Up));
        var seen = new List<int?>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(25) && seen.LastOrDefault() != 20)
        {
            var weight = await WeightAsync(kernel);
            if (seen.Count == 0 || seen[^1] != weight)
            {
                seen.Add(weight);
            }

            await Task.Delay(50);
        }

        // Out of the table until the writer applies the Up, then exactly the steps: never full weight first.
        Assert.Equal([2, 5, 10, 20], seen.SkipWhile(w => w is null));
        Assert.Equal(8, await WeightOfAsync(kernel, Rs(2)));

        // rs2 flaps (4 transitions): held at weight 0 in the kernel while up, then after 3 s of staying up it ramps 1, 2, 4, 8.
        foreach (var (from, to) in new[] { (HealthState.Up, HealthState.Down), (HealthState.Down, HealthState.Up), (HealthState.Up, HealthState.Down), (HealthState.Down, HealthState.Up) })
        {
            // A real flap takes a check interval or more per transition; back to back they race the writer's
            // own handling of the same health events against recovery's hold.
            await emitter.EmitAsync(Change(from, to, Rs(2)));
            await Task.Delay(250);
        }

        var rs2 = new List<int?>();
        clock.Restart();
        // rs2 starts at 8 too: watch until it has been held at 0 and climbed back, not merely until it reads 8.
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !(rs2.Contains(0) && rs2.LastOrDefault() == 8))
        {
            var weight = await WeightOfAsync(kernel, Rs(2));
            if (rs2.Count == 0 || rs2[^1] != weight)
            {
                rs2.Add(weight);
            }

            await Task.Delay(50);
        }

        Assert.Equal([0, 1, 2, 4, 8], rs2.SkipWhile(w => w != 0));
        Assert.Contains(_observed.All, o => o.Event is RecoveryDecision { Action: RecoveryAction.HeldOut, Alert: AlertSeverity.Warning });
    }

    private RealServerHealthChanged Change(HealthState from, HealthState to, string? server = null) => new()
    {
        EventId = Guid.CreateVersion7(), RealServer = new RealServerRef(VirtualServiceRef.Tcp(Vip, 80), server ?? Rs(1), 8080),
        From = from, To = to, Checker = "TCP_CHECK", Reason = "test",
    };

    private Task<int?> WeightAsync(IKernelTableBackend kernel) => WeightOfAsync(kernel, Rs(1));

    private async Task<int?> WeightOfAsync(IKernelTableBackend kernel, string address)
    {
        var table = await kernel.ReadAsync(CancellationToken.None);
        return table.Services.Values.SelectMany(s => s.Destinations.Values).Where(d => d.Key == new DestinationKey(address, 8080)).Select(d => (int?)d.Weight).FirstOrDefault();
    }

    private static async Task<bool> Until(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private async Task<IHost> StartHealthStandInAsync(string broker)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = broker,
            ["Eventing:NodeId"] = _node,
            ["Eventing:SpoolDirectory"] = Path.Combine(_directory, "health-spool"),
        });
        builder.Services.AddSingleton(_observed);
        builder.Services.AddLvsEventing(builder.Configuration, "health", bus =>
            bus.AddConsumer<RecoveryProcessTests.ObserverConsumer>().Endpoint(endpoint =>
            {
                endpoint.Name = "lvr-observer-" + _node;
                endpoint.Temporary = true;
            }));
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var host = builder.Build();
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(start.Token);
        return host;
    }

    private Process Start(string broker, string dll, string name, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = broker;
        start.Environment["Eventing__NodeId"] = _node;
        start.Environment["Eventing__SpoolDirectory"] = Path.Combine(_directory, name + "-spool");
        start.Environment["Eventing__RunDirectory"] = Directory.CreateDirectory(Path.Combine(_directory, name + "-run")).FullName;
        var process = Process.Start(start)!;
        _processes.Add(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue($"{name}: {e.Data}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue($"{name}: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Run(string file, string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        if (!p.WaitForExit(10_000) || p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments}: {p.StandardError.ReadToEnd()}");
        }
    }
}
