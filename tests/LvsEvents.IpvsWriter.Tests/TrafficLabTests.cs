using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Reconciliation;
using Xunit.Abstractions;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>
/// Real traffic through the nftables backend on this kernel: a client namespace opens many short TCP connections to
/// the VIP on the director namespace, which DNATs them to three real-server namespaces running tiny HTTP servers.
/// Everything is driven through the reconciler, as the service does.
/// </summary>
public sealed class TrafficLabTests(ITestOutputHelper output) : IDisposable
{
    private const int Connections = 2000;

    /// <summary>Absolute tolerance on each share. With 2,000 connections a share's standard deviation is at most 1.1 %, so ±5 % is over 4σ.</summary>
    private const double Tolerance = 0.05;

    private readonly WriterLab _lab = new(realServers: 3, extraClientSources: 16);

    public void Dispose() => _lab.Dispose();

    private string Configuration => $$"""
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
        virtual_server {{_lab.Vip}} 81 {
            lb_algo sh
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
        """;

    private Reconciler Start(RecordingEmitter emitter)
    {
        for (var i = 1; i <= 3; i++)
        {
            _lab.StartHttp(i, 8080);
        }

        return new Reconciler(new NftablesBackend(new LibNftables(_lab.Director)), emitter, Config.Parse(Configuration), TimeProvider.System, Config.Log<Reconciler>());
    }

    [Fact]
    public async Task Weights_3_2_1_share_connections_and_a_server_marked_down_gets_no_new_ones()
    {
        var emitter = new RecordingEmitter();
        using var reconciler = Start(emitter);
        await reconciler.ResyncAsync(default);

        var answers = _lab.Fetch(_lab.Vip, 80, Connections);
        var shares = answers.GroupBy(a => a).ToDictionary(g => g.Key, g => (double)g.Count() / answers.Count);
        output.WriteLine($"weights 3:2:1 over {answers.Count} connections: " + string.Join(", ", shares.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value:P1}")));
        Assert.Equal(Connections, answers.Count);
        Assert.InRange(shares.GetValueOrDefault("rs1"), 3 / 6.0 - Tolerance, 3 / 6.0 + Tolerance);
        Assert.InRange(shares.GetValueOrDefault("rs2"), 2 / 6.0 - Tolerance, 2 / 6.0 + Tolerance);
        Assert.InRange(shares.GetValueOrDefault("rs3"), 1 / 6.0 - Tolerance, 1 / 6.0 + Tolerance);

        var down = Config.Down($"TCP/{_lab.Vip}:80", $"{_lab.RealServer(2)}:8080");
        var operations = await reconciler.HandleAsync(down, default);
        var applied = Assert.Single(emitter.OfType<KernelRuleApplied>(), e => e.CausationId == down.EventId);
        Assert.Equal(KernelOperation.DeleteDestination, applied.Operation);
        Assert.Equal(down.EventId, applied.CorrelationId);
        Assert.Equal($"-a -t {_lab.Vip}:80 -r {_lab.RealServer(2)}:8080 -m -w 2", applied.Before);
        Assert.Null(applied.After);
        Assert.Single(operations);

        var after = _lab.Fetch(_lab.Vip, 80, 600);
        var counts = after.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine("rs2 down, 600 connections: " + string.Join(", ", counts.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value}")));
        Assert.Equal(0, counts.GetValueOrDefault("rs2"));
        Assert.InRange((double)counts.GetValueOrDefault("rs1") / after.Count, 0.75 - Tolerance - 0.02, 0.75 + Tolerance + 0.02);

        // Back up: it receives connections again.
        await reconciler.HandleAsync(Config.Up($"TCP/{_lab.Vip}:80", $"{_lab.RealServer(2)}:8080"), default);
        Assert.Contains("rs2", _lab.Fetch(_lab.Vip, 80, 200));
    }

    [Fact]
    public async Task Source_hash_keeps_each_client_on_one_server()
    {
        var emitter = new RecordingEmitter();
        using var reconciler = Start(emitter);
        await reconciler.ResyncAsync(default);

        var chosen = new Dictionary<string, string>();
        for (var i = 0; i < 16; i++)
        {
            var source = _lab.ClientSource(i);
            var answers = _lab.Fetch(_lab.Vip, 81, 25, source);
            output.WriteLine($"{source}: {string.Join(",", answers.Distinct())}");
            Assert.Single(answers.Distinct());
            chosen[source] = answers[0];
        }

        // 16 clients over 3 equal servers: the hash spreads them (all on one server has probability 3·(1/3)^16).
        Assert.True(chosen.Values.Distinct().Count() >= 2, string.Join(", ", chosen));
    }
}
