using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Reconciliation;
using LvsEvents.IpvsWriter.Statistics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>
/// The statistics poller against real traffic through the nftables backend in a lab's namespaces: connections counted
/// per destination from conntrack (with packets and bytes, accounting on), the service's own nft counter, rates between
/// polls, and active connections while clients hold them open, inactive once they close.
/// </summary>
public sealed class KernelStatisticsLabTests(ITestOutputHelper output) : IDisposable
{
    private const int Batches = 6;
    private const int BatchSize = 50;
    private const int Held = 30;
    private readonly WriterLab _lab = new(realServers: 3);
    private readonly List<IDisposable> _servers = [];

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        _lab.Dispose();
    }

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
        """;

    [Fact(Timeout = 120_000)]
    public async Task Real_traffic_is_counted_per_destination_with_rates_and_held_connections_are_active()
    {
        WriterLab.Run("ip", $"netns exec {_lab.Director} sysctl -qw net.netfilter.nf_conntrack_acct=1");
        var holders = new List<HoldingServer>();
        for (var i = 1; i <= 3; i++)
        {
            _lab.StartHttp(i, 8080);
            var holder = new HoldingServer(_lab.RealServerNamespaces[i - 1], 9090);
            holders.Add(holder);
            _servers.Add(holder);
        }

        using var backend = new NftablesBackend(new LibNftables(_lab.Director));
        using var reconciler = new Reconciler(backend, new RecordingEmitter(), Config.Parse(Configuration), TimeProvider.System, Config.Log<Reconciler>());
        await reconciler.ResyncAsync(default);
        var emitter = new RecordingEmitter();
        using var poller = new KernelStatisticsPoller(backend, emitter, new ServiceIdentity(_lab.Id, "ipvs-writer"),
            Options.Create(new KernelStatisticsOptions()), Options.Create(new WriterOptions { NetworkNamespace = _lab.Director }),
            TimeProvider.System, NullLogger<KernelStatisticsPoller>.Instance);

        var before = await poller.PollAsync(default);
        Assert.NotNull(before);
        Assert.All(before.Services.SelectMany(s => s.Destinations), d => Assert.Equal(0, d.Counters.Connections));

        // Short connections (closed with a reset: their entries stay 10 s), polled between batches as the service polls.
        var answers = new List<string>();
        var samples = new List<KernelStatisticsSample>();
        for (var batch = 0; batch < Batches; batch++)
        {
            answers.AddRange(_lab.Fetch(_lab.Vip, 80, BatchSize));
            samples.Add((await poller.PollAsync(default))!);
        }

        var after = samples[^1];
        var web = after.Services.Single(s => s.Key.Port == 80);
        var previous = samples[^2].Services.Single(s => s.Key.Port == 80);
        foreach (var d in web.Destinations)
        {
            output.WriteLine($"{d.RealServer} w{d.Weight}: conns {d.Counters.Connections} inpkts {d.Counters.InPackets} outpkts {d.Counters.OutPackets} inbytes {d.Counters.InBytes} outbytes {d.Counters.OutBytes} " +
                             $"active {d.Counters.ActiveConnections} inactive {d.Counters.InactiveConnections} cps {d.Rates?.ConnectionsPerSecond:0.0} inpps {d.Rates?.InPacketsPerSecond:0.0} outbps {d.Rates?.OutBytesPerSecond:0}");
        }

        output.WriteLine($"service {web.Ref}: conns {web.Counters.Connections} cps {web.Rates?.ConnectionsPerSecond:0.0} inpps {web.Rates?.InPacketsPerSecond:0.0} over {after.Interval?.TotalSeconds:0.00} s");
        const int total = Batches * BatchSize;
        Assert.Equal(total, answers.Count);
        // The kernel's own count of the service's new connections (its rule's counter) and conntrack's, per destination.
        Assert.Equal(total, web.Counters.Connections);
        Assert.Equal(total, web.Destinations.Sum(d => d.Counters.Connections));
        foreach (var (d, name) in web.Destinations.Zip(["rs1", "rs2", "rs3"]))
        {
            // Each destination's count is what its server answered.
            Assert.Equal(answers.Count(a => a == name), d.Counters.Connections);
            Assert.True(d.Counters.Connections > 0, $"{d.RealServer} got no connections");
            // SYN, ACK, request (and a reset or FIN) at least; the HTTP answer back.
            Assert.InRange(d.Counters.InPackets!.Value, 3 * d.Counters.Connections!.Value, long.MaxValue);
            Assert.True(d.Counters.OutBytes > d.Counters.Connections * 40, $"{d.RealServer}: {d.Counters.OutBytes} bytes out");
            // Rates cover the last poll interval: the last batch.
            var earlier = previous.Destinations.Single(p => p.Key == d.Key).Counters;
            Assert.Equal((double)(d.Counters.Connections - earlier.Connections)!, d.Rates!.ConnectionsPerSecond!.Value * after.Interval!.Value.TotalSeconds, 6);
            Assert.Equal((double)(d.Counters.InPackets - earlier.InPackets)!, d.Rates.InPacketsPerSecond!.Value * after.Interval.Value.TotalSeconds, 6);
            Assert.Equal((double)(d.Counters.OutBytes - earlier.OutBytes)!, d.Rates.OutBytesPerSecond!.Value * after.Interval.Value.TotalSeconds, 6);
            Assert.Equal(0, d.Counters.ActiveConnections);
        }

        Assert.Equal(BatchSize, web.Rates!.ConnectionsPerSecond!.Value * after.Interval!.Value.TotalSeconds, 6);
        Assert.True(web.Rates.InPacketsPerSecond > 0 && web.Rates.OutBytesPerSecond > 0);

        // Held open: active, on every destination; the service sums them; the event carries the total.
        using (var held = new HeldConnections(_lab.Client, _lab.Vip, 90, Held))
        {
            for (var i = 0; i < 50 && holders.Sum(h => h.Held) < Held; i++)
            {
                await Task.Delay(100);
            }

            Assert.Equal(Held, holders.Sum(h => h.Held));
            var holding = (await poller.PollAsync(default))!;
            var service = holding.Services.Single(s => s.Key.Port == 90);
            output.WriteLine($"held: {string.Join(", ", service.Destinations.Select(d => $"{d.RealServer} active {d.Counters.ActiveConnections}"))}");
            Assert.Equal(Held, service.Counters.ActiveConnections);
            Assert.Equal(0, service.Counters.InactiveConnections);
            Assert.All(service.Destinations, d => Assert.True(d.Counters.ActiveConnections > 0, $"{d.RealServer} holds none"));
            Assert.Equal(Held, holding.TotalActiveConnections);
            var reported = emitter.OfType<KernelStatisticsReported>()[^1];
            Assert.Equal("nftables", reported.Backend);
            Assert.Equal(Held, reported.TotalActiveConnections);
            Assert.Equal(Held, reported.Services.Single(s => s.VirtualService.Port == 90).ActiveConnections);
            Assert.True(reported.Interval > TimeSpan.Zero);

            // Closed (FIN): no longer active, still tracked while closing, so inactive.
            held.Close();
            KernelStatisticsSample closed;
            var polls = 0;
            do
            {
                await Task.Delay(100);
                closed = (await poller.PollAsync(default))!;
            }
            while (closed.Services.Single(s => s.Key.Port == 90).Counters.ActiveConnections > 0 && ++polls < 30);

            var gone = closed.Services.Single(s => s.Key.Port == 90);
            output.WriteLine($"closed: active {gone.Counters.ActiveConnections} inactive {gone.Counters.InactiveConnections}");
            Assert.Equal(0, gone.Counters.ActiveConnections);
            Assert.Equal(Held, gone.Counters.InactiveConnections);
        }

        // One event per poll: before, each batch, holding, and at least one while closing.
        Assert.True(emitter.OfType<KernelStatisticsReported>().Count >= Batches + 3);
    }
    [Fact(Timeout = 120_000)]
    public async Task Connections_to_a_server_that_drops_the_clients_are_unanswered_at_the_next_poll_and_counted_once()
    {
        const int attempts = 60;
        _lab.StartHttp(1, 8080);
        _lab.StartHttp(2, 8080);
        // rs2 drops what the client sends it, as a firewall on the server would.
        var rs2 = _lab.RealServerNamespaces[1];
        WriterLab.Run("ip", $"netns exec {rs2} nft add table inet lvw");
        WriterLab.Run("ip", $"netns exec {rs2} nft add chain inet lvw input {{ type filter hook input priority 0 ; }}");
        WriterLab.Run("ip", $"netns exec {rs2} nft add rule inet lvw input ip saddr {_lab.ClientAddress} tcp dport 8080 drop");
        var config = $$"""
            virtual_server {{_lab.Vip}} 80 {
                lb_algo wrr
                lb_kind NAT
                protocol TCP
                real_server {{_lab.RealServer(1)}} 8080 {
                    weight 1
                }
                real_server {{_lab.RealServer(2)}} 8080 {
                    weight 1
                }
            }
            """;
        using var backend = new NftablesBackend(new LibNftables(_lab.Director));
        using var reconciler = new Reconciler(backend, new RecordingEmitter(), Config.Parse(config), TimeProvider.System, Config.Log<Reconciler>());
        await reconciler.ResyncAsync(default);
        var emitter = new RecordingEmitter();
        using var poller = new KernelStatisticsPoller(backend, emitter, new ServiceIdentity(_lab.Id, "ipvs-writer"),
            Options.Create(new KernelStatisticsOptions()), Options.Create(new WriterOptions { NetworkNamespace = _lab.Director }),
            TimeProvider.System, NullLogger<KernelStatisticsPoller>.Instance);
        await poller.PollAsync(default);

        // Connections from the client, all at once; each waits up to 2 s for its handshake (rs1's come in well under).
        var sockets = WriterLab.InNamespace(_lab.Client, () => Enumerable.Range(0, attempts)
            .Select(_ => new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)).ToList());
        var connects = sockets.Select(async socket =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await socket.ConnectAsync(System.Net.IPAddress.Parse(_lab.Vip), 80, timeout.Token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }).ToList();
        var answered = (await Task.WhenAll(connects)).Count(a => a);
        var seen = (await poller.PollAsync(default))!;
        var judged = (await poller.PollAsync(default))!;
        var again = (await poller.PollAsync(default))!;
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        DestinationSample At(KernelStatisticsSample sample, int server) => sample.Services.Single().Destinations.Single(d => d.Key.Address == _lab.RealServer(server));
        output.WriteLine($"{answered} of {attempts} answered; rs1 new {At(seen, 1).NewConnections}, rs2 new {At(seen, 2).NewConnections}; " +
                         $"unanswered at the polls: rs2 {At(seen, 2).NewUnanswered}, {At(judged, 2).NewUnanswered}, {At(again, 2).NewUnanswered}; rs1 {At(judged, 1).NewUnanswered}");
        Assert.InRange(answered, 1, attempts - 1);
        Assert.Equal(answered, At(seen, 1).NewConnections);
        Assert.Equal(attempts - answered, At(seen, 2).NewConnections);
        // Seen first without a reply: not judged yet. At the next poll still none: unanswered, once.
        Assert.Equal(0, At(seen, 2).NewUnanswered);
        Assert.Equal(attempts - answered, At(judged, 2).NewUnanswered);
        Assert.Equal(0, At(again, 2).NewUnanswered);
        Assert.Equal(0, At(judged, 1).NewUnanswered);
        var reported = emitter.OfType<KernelStatisticsReported>()[^2].Services.Single().RealServers;
        Assert.Equal((long?)(attempts - answered), reported.Single(d => d.Address == _lab.RealServer(2)).UnansweredConnections);
        Assert.Equal(0, reported.Single(d => d.Address == _lab.RealServer(1)).UnansweredConnections);
    }

    [Fact(Timeout = 120_000)]
    public async Task Twenty_thousand_udp_flows_are_counted_inactive_per_destination_and_a_poll_stays_fast()
    {
        const int flows = 20_000;
        var config = $$"""
            virtual_server {{_lab.Vip}} 53 {
                lb_algo rr
                lb_kind NAT
                protocol UDP
                real_server {{_lab.RealServer(1)}} 5353 {
                    weight 1
                }
                real_server {{_lab.RealServer(2)}} 5353 {
                    weight 1
                }
            }
            """;
        using var backend = new NftablesBackend(new LibNftables(_lab.Director));
        using var reconciler = new Reconciler(backend, new RecordingEmitter(), Config.Parse(config), TimeProvider.System, Config.Log<Reconciler>());
        await reconciler.ResyncAsync(default);
        using var poller = new KernelStatisticsPoller(backend, new RecordingEmitter(), new ServiceIdentity(_lab.Id, "ipvs-writer"),
            Options.Create(new KernelStatisticsOptions()), Options.Create(new WriterOptions { NetworkNamespace = _lab.Director }),
            TimeProvider.System, NullLogger<KernelStatisticsPoller>.Instance);
        await poller.PollAsync(default);

        // One datagram from each of 20,000 source ports: 20,000 UDP conntrack entries (30 s each), nothing listening behind.
        WriterLab.InNamespace(_lab.Client, () =>
        {
            var target = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(_lab.Vip), 53);
            for (var i = 0; i < flows; i++)
            {
                // Distinct ports chosen here: random ephemeral ones would repeat (the same flow, one entry).
                using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
                socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(_lab.ClientAddress), 20_000 + i));
                socket.SendTo("q"u8, target);
            }

            return 0;
        });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var sample = (await poller.PollAsync(default))!;
        var first = clock.Elapsed;
        clock.Restart();
        sample = (await poller.PollAsync(default))!;
        var second = clock.Elapsed;
        var service = Assert.Single(sample.Services);
        output.WriteLine($"{flows} UDP flows: poll {first.TotalMilliseconds:0} ms (first), {second.TotalMilliseconds:0} ms (again); " +
                         string.Join(", ", service.Destinations.Select(d => $"{d.RealServer} inactive {d.Counters.InactiveConnections} conns {d.Counters.Connections}")));
        Assert.Equal(flows, service.Counters.InactiveConnections);
        Assert.Equal(0, service.Counters.ActiveConnections);
        Assert.Equal(flows, service.Counters.Connections);
        Assert.Equal(flows, service.Destinations.Sum(d => d.Counters.Connections));
        // Nothing new between the two polls: the same entries are not counted again.
        Assert.All(service.Destinations, d => Assert.Equal(0, d.Rates!.ConnectionsPerSecond));
        Assert.All(service.Destinations, d => Assert.InRange(d.Counters.InactiveConnections!.Value, flows / 2 - 1000, flows / 2 + 1000));
        Assert.True(second < TimeSpan.FromSeconds(2), $"a poll of {flows} entries took {second.TotalMilliseconds:0} ms");
    }
}
