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

    /// <summary>
    /// Each weight change replaces the service's rule and its anonymous weight map in one transaction. A packet that
    /// entered the chain just before the commit looks the old map up with the new generation's mask and misses; without
    /// the fallback rule it reached the director's own stack and was refused. Here 15 s of changes (~3,600) under as
    /// many new connections as the client opens (~200,000): without the fallback rule 86 and 126 were refused in two
    /// runs on this kernel; with it, none.
    /// </summary>
    [Fact]
    public async Task Weight_changes_under_traffic_refuse_no_connection()
    {
        var emitter = new RecordingEmitter();
        using var reconciler = Start(emitter);
        await reconciler.ResyncAsync(default);

        var duration = TimeSpan.FromSeconds(15);
        var clients = Task.Factory.StartNew(() => WriterLab.InNamespace(_lab.Client, () => OpenConnections(_lab.Vip, 80, duration + TimeSpan.FromSeconds(1))), TaskCreationOptions.LongRunning);
        var service = VirtualServiceRef.Tcp(_lab.Vip, 80);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var changes = 0;
        while (clock.Elapsed < duration)
        {
            // rs1 3 ↔ 7, rs2 2 ↔ 5, rs3 1 ↔ 4: each command is one transaction, each changes the rule's modulus.
            var server = changes % 3 + 1;
            var high = changes / 3 % 2 == 0;
            var weight = server switch { 1 => high ? 7 : 3, 2 => high ? 5 : 2, _ => high ? 4 : 1 };
            var operations = await reconciler.HandleAsync(new SetWeightCommand
            {
                EventId = Guid.CreateVersion7(), RealServer = new RealServerRef(service, _lab.RealServer(server), 8080), Weight = weight,
                Cause = WeightChangeCause.Operator, RequestedBy = "traffic-lab",
            }, default);
            Assert.Single(operations);
            changes++;
            await Task.Delay(2);
        }

        var (opened, refused, unanswered) = await clients;
        output.WriteLine($"{changes} weight changes in {duration.TotalSeconds:0} s; {opened} connections, {refused} refused, {unanswered} unanswered");
        Assert.True(changes > 500, $"only {changes} weight changes");
        Assert.True(opened > 5000, $"only {opened} connections");
        Assert.Equal(0, refused);
        Assert.Equal(0, unanswered);
        using var reader = new NftablesBackend(new LibNftables(_lab.Director));
        Assert.Empty((await reader.ReadAsync(default)).Problems);
    }

    /// <summary>New connections (handshake only, closed with a reset), 32 in flight, until <paramref name="duration"/> passed.</summary>
    private static (int Opened, int Refused, int Unanswered) OpenConnections(string host, int port, TimeSpan duration)
    {
        var target = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(host), port);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int opened = 0, refused = 0, unanswered = 0;
        while (clock.Elapsed < duration)
        {
            var sockets = Enumerable.Range(0, 32).Select(_ => new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
                System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { LingerState = new System.Net.Sockets.LingerOption(true, 0) }).ToList();
            var connects = sockets.Select(s => s.ConnectAsync(target)).ToArray();
            try
            {
                Task.WaitAll(connects, TimeSpan.FromSeconds(3));
            }
            catch (AggregateException)
            {
                // Counted below, one by one.
            }

            foreach (var connect in connects)
            {
                opened++;
                if (connect.Exception?.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
                {
                    refused++;
                }
                else if (!connect.IsCompletedSuccessfully)
                {
                    unanswered++;
                }
            }

            sockets.ForEach(s => s.Dispose());
        }

        return (opened, refused, unanswered);
    }
}
