using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LvsEvents.Netlink;
using LvsEvents.TestInfrastructure.Network;
using LvsEvents.TestInfrastructure.Vrrp;
using Tmds.Linux;

namespace LvsEvents.Vrrp.Bench;

public enum Speaker
{
    Keepalived,
    Ours,
}

/// <summary>
/// What one failover took: until the VIP was on the backup (from the crash, and from the master's last advert
/// seen on the LAN: the protocol's own part, whatever the phase of the crash), until a client connected again;
/// and whether the backup held the VIP at any moment of the steady state before the crash (a false failover).
/// </summary>
public sealed record FailoverResult(TimeSpan VipMoved, TimeSpan SinceLastAdvert, TimeSpan ClientOutage, bool FalseFailoverBeforeCrash);

/// <summary>
/// One failover in a fresh lab: directors a (master, 150) and b (backup, 100) and a client on a bridge; a TCP
/// listener on the VIP's port in each director; the client connects every 10 ms. The master "crashes": its
/// VRRP process gets SIGKILL and its link goes down, as when the machine dies.
/// </summary>
public static class FailoverRun
{
    private const int Port = 8080;
    private static readonly TimeSpan ProbeEvery = TimeSpan.FromMilliseconds(10);

    public static async Task<FailoverResult> RunAsync(Speaker speaker, double interval, string? rabbitMq)
    {
        using var lab = new NetworkLab();
        var a = lab.AddNode("a", 1);
        var b = lab.AddNode("b", 2);
        var client = lab.AddNode("c", 3);
        var vip = lab.Address(100);
        var version = interval >= 1 && interval % 1 == 0 ? 2 : 3;
        VrrpPeerSettings Settings(LabNode node, int priority, bool master) => new()
        {
            RouterId = $"{lab.Id}-{node.Name}", Vip = vip, Priority = priority, StartAsMaster = master,
            AdvertInterval = interval, Version = version, Password = version == 2 ? "s3cret" : null,
        };

        using var listenerA = Listen(a.Namespace);
        using var listenerB = Listen(b.Namespace);
        using var stop = new CancellationTokenSource();
        var accepting = Task.WhenAll(AcceptAsync(listenerA, stop.Token), AcceptAsync(listenerB, stop.Token));
        await using var master = await StartAsync(speaker, a, Settings(a, 150, master: true), rabbitMq);
        await using var backup = await StartAsync(speaker, b, Settings(b, 100, master: false), rabbitMq);
        using var bAddresses = NetworkNamespace.Run(b.Namespace, InterfaceAddresses.Open);
        try
        {
            await WaitAsync(() => master.HoldsVip, TimeSpan.FromSeconds(15), "the master holds the VIP", master);
            var backupWord = speaker == Speaker.Ours ? "-> Backup" : "Entering BACKUP STATE";
            await WaitAsync(() => backup.OutputText.Contains(backupWord, StringComparison.Ordinal), TimeSpan.FromSeconds(15), "the backup is up", backup);
            using var adverts = new AdvertWatcher(client.Namespace, a.Address);
            // Steady state: several advert intervals, watching that the backup never takes the VIP meanwhile.
            var steady = Stopwatch.StartNew();
            var falseFailover = false;
            while (steady.Elapsed < TimeSpan.FromSeconds(Math.Max(1.5, 5 * interval)))
            {
                falseFailover |= (await bAddresses.ListAsync("eth0")).Any(x => x.Address.Equals(vip));
                await Task.Delay(5);
            }

            var prober = new ClientProber(client.Namespace, new IPEndPoint(vip, Port));
            var probing = prober.RunAsync(ProbeEvery, stop.Token);
            await WaitAsync(() => prober.Successes >= 5, TimeSpan.FromSeconds(5), "the client reaches the VIP", master);
            // The crash comes right after one of the master's adverts reaches the LAN: the same (worst) phase for
            // both speakers, so that kill → VIP measures the speaker and not where its advert timer happened to be.
            var seen = adverts.LastAdvert;
            await WaitAsync(() => adverts.LastAdvert != seen, TimeSpan.FromSeconds(5), "an advert of the master", master);

            // The crash: the master's link goes down (nothing it says reaches the LAN from here on, and the
            // client's connections to it fail) and its VRRP process is killed; both clocks start at the link.
            NetworkLab.Run("ip", $"-n {a.Namespace} link set eth0 down");
            var clock = Stopwatch.StartNew();
            var killedAt = prober.Now;
            Crash(master);
            while (!(await bAddresses.ListAsync("eth0")).Any(x => x.Address.Equals(vip)))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(20))
                    throw new TimeoutException($"the backup never took the VIP:\n{backup.OutputText}");
                await Task.Delay(1);
            }
            var moved = clock.Elapsed;
            var vipAt = adverts.Now;
            var lastAdvert = adverts.LastAdvert ?? throw new InvalidOperationException("no advert of the master was seen on the LAN");
            await WaitAsync(() => prober.FirstSuccessStartedAfter(killedAt) is not null, TimeSpan.FromSeconds(10), "the client reaches the new master", backup);
            var outage = prober.FirstSuccessStartedAfter(killedAt)!.Value - killedAt;
            await stop.CancelAsync();
            await probing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return new FailoverResult(moved, vipAt - lastAdvert, outage, falseFailover);
        }
        finally
        {
            await stop.CancelAsync();
            listenerA.Dispose();
            listenerB.Dispose();
            await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<IVrrpSpeakerProcess> StartAsync(Speaker speaker, LabNode node, VrrpPeerSettings settings, string? rabbitMq)
        => speaker == Speaker.Ours
            ? await OurVrrpNode.StartAsync(node, settings, rabbitMq, "--Logging:LogLevel:LvsEvents.Vrrp=Information")
            : KeepalivedSpeaker.Start(node, settings);

    private static void Crash(IVrrpSpeakerProcess master)
    {
        if (master is KeepalivedSpeaker keepalived)
            keepalived.KillVrrpChild();
        else
            LibC.kill(master.ProcessId, LibC.SIGKILL);
    }

    private static Socket Listen(string ns) => NetworkNamespace.Run(ns, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Any, Port));
        socket.Listen(512);
        return socket;
    });

    private static async Task AcceptAsync(Socket listener, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                using var connection = await listener.AcceptAsync(token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what, IVrrpSpeakerProcess speaker)
    {
        if (await Poll.Until(() => condition() || speaker.HasExited, timeout) is null || speaker.HasExited)
            throw new TimeoutException($"{what}: not within {timeout.TotalSeconds} s (exited: {speaker.HasExited}):\n{speaker.OutputText}");
    }
}
