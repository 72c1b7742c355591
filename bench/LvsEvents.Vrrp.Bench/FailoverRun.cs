using System.Diagnostics;
using System.Globalization;
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
/// how long after the master's last advert the crash came (the phase, the same for every run); and whether the
/// backup took the VIP at any moment of the steady state before the crash (a false failover).
/// </summary>
public sealed record FailoverResult(TimeSpan VipMoved, TimeSpan SinceLastAdvert, TimeSpan ClientOutage, TimeSpan CrashAfterAdvert, bool FalseFailoverBeforeCrash);

/// <summary>
/// One failover in a fresh lab: directors a (master, 150) and b (backup, 100) and a client on a bridge; a TCP
/// listener on the VIP's port in each director; the client connects every 10 ms. The master "crashes": its link
/// goes down (rtnetlink, from this process: the clock starts right before the request) and its VRRP process gets
/// SIGKILL, as when the machine dies. The VIP on the backup is seen through an address subscription in its namespace.
/// </summary>
public static class FailoverRun
{
    private const int Port = 8080;
    private static readonly TimeSpan ProbeEvery = TimeSpan.FromMilliseconds(10);

    public static async Task<FailoverResult> RunAsync(Speaker speaker, double interval, string? rabbitMq, bool speakerDebugLog = false)
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
        // The crash's link request goes through a socket opened (and an index looked up) in a's namespace beforehand.
        using var aLinks = NetworkNamespace.Run(a.Namespace, NetlinkSocket.Open);
        var aEth0 = LinkStateRequests.IndexOf(aLinks, "eth0");
        // The master first, and the backup only once the master holds the VIP: from the backup's start on the master is
        // alive, so any VIP the backup takes before the crash is a false failover (including one at its start-up), and
        // the subscription that sees it is open before the backup starts.
        await using var master = await StartAsync(speaker, a, Settings(a, 150, master: true), rabbitMq, speakerDebugLog);
        await WaitAsync(() => master.HoldsVip, TimeSpan.FromSeconds(15), "the master holds the VIP", master);
        using var vipOnBackup = new VipWatcher(b.Namespace, vip);
        await using var backup = await StartAsync(speaker, b, Settings(b, 100, master: false), rabbitMq, speakerDebugLog);
        try
        {
            var backupWord = speaker == Speaker.Ours ? "-> Backup" : "Entering BACKUP STATE";
            await WaitAsync(() => backup.OutputText.Contains(backupWord, StringComparison.Ordinal), TimeSpan.FromSeconds(15), "the backup is up", backup);
            using var adverts = new AdvertWatcher(client.Namespace, a.Address);
            // Steady state: several advert intervals, in which the backup must never take the VIP.
            await Task.Delay(TimeSpan.FromSeconds(Math.Max(1.5, 5 * interval)));

            var prober = new ClientProber(client.Namespace, new IPEndPoint(vip, Port));
            var probing = prober.RunAsync(ProbeEvery, stop.Token);
            await WaitAsync(() => prober.Successes >= 5, TimeSpan.FromSeconds(5), "the client reaches the VIP", master);
            // The crash comes right after one of the master's adverts reaches the LAN, on the thread that read it:
            // the same (worst) phase for both speakers, so that crash → VIP measures the speaker and not where its
            // advert timer happened to be. Link down first (nothing it says reaches the LAN from then on, and the
            // client's connections to it fail), then the kill.
            var crashing = adverts.CrashAfterNextAdvert(() =>
            {
                var started = Stopwatch.GetTimestamp();
                LinkStateRequests.SetUp(aLinks, aEth0, up: false);
                Crash(master);
                return started;
            });
            if (await Task.WhenAny(crashing, Task.Delay(TimeSpan.FromSeconds(5))) != crashing)
                throw new TimeoutException($"no advert of the master within 5 s:\n{master.OutputText}");
            var crashedAt = await crashing;
            var falseFailover = vipOnBackup.AddedBefore(crashedAt);
            if (falseFailover)
            {
                // What each side said about it: a false failover fails the benchmark, and its cause must be readable.
                // A gap on the wire longer than Master_Down_Interval means the master stalled; none means the backup misjudged.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    false failover: the longest silence of the master on the LAN before the crash was {adverts.LongestGap.TotalMilliseconds:0.0} ms"));
                foreach (var (role, speakerProcess) in new[] { ("master", (IVrrpSpeakerProcess)master), ("backup", backup) })
                    foreach (var line in speakerProcess.OutputText.Split('\n').Where(l => l.Contains("->", StringComparison.Ordinal) || l.Contains("STATE", StringComparison.Ordinal) || l.Contains("warn", StringComparison.OrdinalIgnoreCase)).TakeLast(12))
                        Console.WriteLine($"    false failover, {role}: {line.Trim()}");
            }
            var lastAdvert = adverts.LastAdvert ?? throw new InvalidOperationException("no advert of the master was seen on the LAN");
            var vipAt = await vipOnBackup.FirstAddedAfterAsync(crashedAt, TimeSpan.FromSeconds(20))
                ?? throw new TimeoutException($"the backup never took the VIP:\n{backup.OutputText}");
            await WaitAsync(() => prober.FirstSuccessStartedAfter(crashedAt) is not null, TimeSpan.FromSeconds(10), "the client reaches the new master", backup);
            var outage = prober.FirstSuccessStartedAfter(crashedAt)!.Value - crashedAt;
            await stop.CancelAsync();
            await probing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (speakerDebugLog && speaker == Speaker.Ours)
            {
                // The backup's own account of the takeover (timer lateness, how long each step took).
                await Task.Delay(200);
                foreach (var line in backup.OutputText.Split('\n').Where(l => l.Contains("timer transition", StringComparison.Ordinal) || l.Contains(" took ", StringComparison.Ordinal)).TakeLast(6))
                    Console.WriteLine($"    backup: {line.Trim()}");
            }
            return new FailoverResult(Elapsed(vipAt - crashedAt), Elapsed(vipAt - lastAdvert), Elapsed(outage), Elapsed(crashedAt - lastAdvert), falseFailover);
        }
        finally
        {
            await stop.CancelAsync();
            listenerA.Dispose();
            listenerB.Dispose();
            await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static TimeSpan Elapsed(long stopwatchTicks) => TimeSpan.FromSeconds((double)stopwatchTicks / Stopwatch.Frequency);

    private static async Task<IVrrpSpeakerProcess> StartAsync(Speaker speaker, LabNode node, VrrpPeerSettings settings, string? rabbitMq, bool debugLog)
        => speaker == Speaker.Ours
            ? await OurVrrpNode.StartAsync(node, settings, rabbitMq, $"--Logging:LogLevel:LvsEvents.Vrrp={(debugLog ? "Debug" : "Information")}")
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
