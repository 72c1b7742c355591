using System.Net;
using System.Net.Sockets;
using LvsEvents.Contracts;
using LvsEvents.Health.Checking;

namespace LvsEvents.Health.Tests;

/// <summary>
/// The probe loops reuse their sockets from probe to probe (connect(AF_UNSPEC) between them): whatever the last probe on
/// a socket met (a refusal, a reset, a connection left half-open by a timeout before or after the handshake), the next
/// probe's result must be its own.
/// </summary>
public class ProbeSocketReuseTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);
    private static readonly HttpUrlCheck Ok = new("/", new StatusCodeSet(["200"]), null, null, null, false);

    [Fact]
    public async Task Every_outcome_in_turn_on_reused_sockets_is_the_probe_s_own()
    {
        await using var good = new TestHttpServer();
        await using var wedged = new TestHttpServer { Hang = true };
        var refused = Loopback.ClosedTcpPort();
        using var full = SynDroppingListener(out var fullEndpoint);

        // Several probe objects of each kind, so that both loops (a probe's loop follows its object) see every kind.
        var groups = Enumerable.Range(0, 4).Select(_ => new (string Name, IProbe Probe, bool Up, ProbeErrorClass Error)[]
        {
            ("syn dropped", new TcpProbe(new ProbeTarget(fullEndpoint, null, null, Short)), false, ProbeErrorClass.Timeout),
            ("tcp good", new TcpProbe(new ProbeTarget(good.Endpoint, null, null, Short * 10)), true, ProbeErrorClass.None),
            ("refused", new TcpProbe(new ProbeTarget(refused, null, null, Short * 10)), false, ProbeErrorClass.Refused),
            ("http good", new HttpProbe(new ProbeTarget(good.Endpoint, null, null, Short * 10), [Ok], false, null, "1.0"), true, ProbeErrorClass.None),
            ("http wedged", new HttpProbe(new ProbeTarget(wedged.Endpoint, null, null, Short), [Ok], false, null, "1.0"), false, ProbeErrorClass.Timeout),
            ("http good again", new HttpProbe(new ProbeTarget(good.Endpoint, null, null, Short * 10), [Ok], false, null, "1.0"), true, ProbeErrorClass.None),
        }).ToList();

        for (var round = 0; round < 3; round++)
        {
            foreach (var group in groups)
            {
                foreach (var (name, probe, up, error) in group)
                {
                    var outcome = await probe.ProbeAsync(CancellationToken.None);
                    Assert.True(outcome.Success == up && outcome.Error == error, $"round {round}, {name}: {outcome.Success} {outcome.Error} {outcome.Detail}");
                }
            }

            // And many at once: sockets go back and forth between probes in flight together.
            var burst = await Task.WhenAll(groups.SelectMany(g => g).Where(p => p.Up).SelectMany(p => Enumerable.Repeat(p.Probe, 25))
                .Select(p => Task.Run(async () => await p.ProbeAsync(CancellationToken.None))));
            Assert.All(burst, o => Assert.True(o.Success, $"{o.Error} {o.Detail}"));
        }
    }

    /// <summary>A listener with a full accept queue: the kernel drops further SYNs, so a connect stays in SYN-SENT.</summary>
    private static Socket SynDroppingListener(out IPEndPoint endpoint)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Loopback.NewAddress(), 0));
        listener.Listen(0);
        endpoint = (IPEndPoint)listener.LocalEndPoint!;
        using var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        filler.Connect(endpoint);
        filler.Close();
        return listener;
    }
}
