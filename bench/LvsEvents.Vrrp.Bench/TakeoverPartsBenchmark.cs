using System.Diagnostics;
using System.Globalization;
using LvsEvents.Netlink;
using LvsEvents.TestInfrastructure.Network;
using LvsEvents.Vrrp.Protocol;
using LvsEvents.Vrrp.Transport;

namespace LvsEvents.Vrrp.Bench;

/// <summary>
/// The pieces of a backup's takeover, each measured on its own in a namespace lab, before and after the changes
/// that were made to them: how late the master-down wait wakes (timerfd against the earlier sleep-then-yield),
/// how much later than the kernel a reading thread sees an advert (what the kernel timestamp wins back), a VIP add
/// by a remembered index against lookup-then-add, and how long the advert send takes (what putting the VIP on
/// before it saves).
/// </summary>
public static class TakeoverPartsBenchmark
{
    public static int Run(int samples)
    {
        Console.WriteLine($"takeover parts: {samples} samples each, medians and p90 in ms");
        Wakeups(samples);
        using var lab = new NetworkLab();
        var a = lab.AddNode("a", 1);
        var b = lab.AddNode("b", 2);
        ReadDelay(samples, lab, a, b);
        VipAdds(samples, lab, b);
        AdvertSends(samples, lab, a);
        return 0;
    }

    private static void Wakeups(int samples)
    {
        var wait = TimeSpan.FromMilliseconds(20);
        using var waiter = new DeadlineWaiter();
        var timerfd = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            waiter.Wait(wait);
            timerfd.Add((Stopwatch.GetElapsedTime(started) - wait).TotalMilliseconds);
        }
        // What the loop did before: a timed semaphore wait to within 3 ms of the deadline, then yield until it.
        using var semaphore = new SemaphoreSlim(0);
        var sleepYield = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            while (true)
            {
                var remaining = wait - Stopwatch.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                    break;
                if (remaining.TotalMilliseconds >= 3)
                    semaphore.Wait(TimeSpan.FromMilliseconds(Math.Floor(remaining.TotalMilliseconds - 3 + 1)));
                else
                    Thread.Yield();
            }
            sleepYield.Add((Stopwatch.GetElapsedTime(started) - wait).TotalMilliseconds);
        }
        Print("master-down wait: woken after its deadline, timerfd (now)", timerfd);
        Print("master-down wait: woken after its deadline, sleep to 3 ms then yield (before)", sleepYield);
    }

    private static void ReadDelay(int samples, NetworkLab lab, LabNode a, LabNode b)
    {
        using var sender = a.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        using var receiver = b.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        var advert = VrrpAdvertisement.CreateV3(9, 150, 2, [lab.Address(100)]);
        var delays = new List<double>();
        var reader = new Thread(() =>
        {
            while (delays.Count < samples)
            {
                if (receiver.Receive(TimeSpan.FromSeconds(2)) is not { KernelReceivedAt: { } stamp })
                    return;
                delays.Add((DateTimeOffset.UtcNow - stamp).TotalMilliseconds);
            }
        }) { IsBackground = true };
        reader.Start();
        for (var i = 0; i < samples && reader.IsAlive; i++)
        {
            sender.Send(advert);
            Thread.Sleep(20);
        }
        reader.Join(TimeSpan.FromSeconds(3));
        Print("advert: read by a waiting thread after the kernel received it (what the kernel timestamp wins back)", delays);
    }

    private static void VipAdds(int samples, NetworkLab lab, LabNode node)
    {
        using var indexed = node.Run(IndexedInterfaceAddresses.Open);
        using var plain = node.Run(InterfaceAddresses.Open);
        indexed.Prepare(["eth0"]);
        var vip = new VirtualAddress(lab.Address(100), 32, "eth0");
        var byIndex = new List<double>();
        var lookupThenAdd = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            indexed.Add(vip);
            byIndex.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            indexed.Remove(vip);
            started = Stopwatch.GetTimestamp();
            plain.Add(vip);
            lookupThenAdd.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            plain.Remove(vip);
        }
        Print("VIP add by a remembered index (now)", byIndex);
        Print("VIP add after an RTM_GETLINK lookup (before)", lookupThenAdd);
    }

    private static void AdvertSends(int samples, NetworkLab lab, LabNode node)
    {
        using var socket = node.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        var advert = VrrpAdvertisement.CreateV3(9, 100, 2, [lab.Address(100)]);
        var sends = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            socket.Send(advert);
            sends.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        Print("advert send (what the VIP no longer waits for)", sends);
    }

    private static void Print(string what, List<double> values)
    {
        if (values.Count == 0)
        {
            Console.WriteLine($"  {what}: no samples");
            return;
        }
        var sorted = values.Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what}: median {sorted[sorted.Count / 2]:0.000}, p90 {sorted[(int)(sorted.Count * 0.9)]:0.000}, max {sorted[^1]:0.000}"));
    }
}
