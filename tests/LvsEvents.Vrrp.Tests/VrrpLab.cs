using System.Diagnostics;
using System.Net;
using LvsEvents.TestInfrastructure;
using LvsEvents.TestInfrastructure.Vrrp;

namespace LvsEvents.Vrrp.Tests;

/// <summary>A namespace LAN (see <see cref="NetworkLab"/>) with VRRP speakers on its nodes, ours and keepalived's; all torn down on dispose.</summary>
public sealed class VrrpLab : IAsyncDisposable
{
    private readonly List<IVrrpSpeakerProcess> _speakers = [];

    public VrrpLab()
    {
        Network = new NetworkLab();
        Vip = Network.Address(100);
    }

    public NetworkLab Network { get; }
    public IPAddress Vip { get; }

    /// <summary>Node ids unique per lab, so that events of parallel or earlier runs never match.</summary>
    public string NodeId(string name) => $"{Network.Id}-{name}";

    public LabNode AddNode(string name, int host) => Network.AddNode(name, host);

    public VrrpPeerSettings Settings(LabNode node, int priority, bool master = false) => new()
    {
        RouterId = NodeId(node.Name),
        Vip = Vip,
        Priority = priority,
        StartAsMaster = master,
    };

    public async Task<OurVrrpNode> StartOursAsync(LabNode node, VrrpPeerSettings settings, params string[] arguments)
    {
        var ours = await OurVrrpNode.StartAsync(node, settings, await TestServers.RabbitMqAsync(), arguments);
        _speakers.Add(ours);
        return ours;
    }

    public KeepalivedSpeaker StartKeepalived(LabNode node, VrrpPeerSettings settings)
    {
        var keepalived = KeepalivedSpeaker.Start(node, settings);
        _speakers.Add(keepalived);
        return keepalived;
    }

    /// <summary>Waits until <paramref name="speaker"/> holds the VIP; returns how long that took.</summary>
    public static async Task<TimeSpan> WaitForVipAsync(IVrrpSpeakerProcess speaker, TimeSpan timeout, string why)
    {
        // Timed on a thread of its own: tests running beside this one can starve the thread pool for a second, and
        // the time a pool continuation runs late is not the time the speaker took.
        var took = await Task.Factory.StartNew(() => PollOnThisThread(() => speaker.HoldsVip || speaker.HasExited, timeout),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.False(speaker.HasExited, $"{speaker.Settings.RouterId} exited:\n{speaker.OutputText}");
        Assert.True(took is not null, $"{speaker.Settings.RouterId} did not take the VIP within {timeout.TotalSeconds:0.##} s ({why}):\n{speaker.OutputText}");
        return took!.Value;
    }

    private static TimeSpan? PollOnThisThread(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                return null;
            Thread.Sleep(5);
        }
        return clock.Elapsed;
    }

    public static async Task WaitForNoVipAsync(IVrrpSpeakerProcess speaker, TimeSpan timeout, string why)
    {
        var took = await Poll.Until(() => !speaker.HoldsVip, timeout, TimeSpan.FromMilliseconds(10));
        Assert.True(took is not null, $"{speaker.Settings.RouterId} still holds the VIP after {timeout.TotalSeconds:0.##} s ({why}):\n{speaker.OutputText}");
    }

    /// <summary>Asserts that for <paramref name="duration"/> exactly the expected speakers hold the VIP.</summary>
    public static async Task AssertHoldersAsync(TimeSpan duration, IVrrpSpeakerProcess[] holders, IVrrpSpeakerProcess[] others)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            foreach (var h in holders)
                Assert.True(h.HoldsVip, $"{h.Settings.RouterId} lost the VIP after {clock.Elapsed.TotalSeconds:0.##} s:\n{h.OutputText}");
            foreach (var o in others)
                Assert.False(o.HoldsVip, $"{o.Settings.RouterId} took the VIP after {clock.Elapsed.TotalSeconds:0.##} s:\n{o.OutputText}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var speaker in _speakers)
        {
            try
            {
                await speaker.DisposeAsync();
            }
            catch (Exception)
            {
                // The namespace sweep below kills whatever survived.
            }
        }
        Network.Dispose();
    }
}
