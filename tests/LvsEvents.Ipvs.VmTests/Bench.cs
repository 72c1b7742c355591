using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using LvsEvents.Ipvs;

namespace LvsEvents.Ipvs.VmTests;

/// <summary>
/// Full sync of services × destinations into an empty table: our batched netlink writes (in this process, as the
/// long-running writer does them) vs ipvsadm-restore of the same rules (its own process, as an operator runs it),
/// both in this guest. Every measurement starts in a fresh network namespace, so each tool meets an empty IPVS
/// table with no trash of deleted destinations (which the kernel searches linearly on every add).
/// </summary>
internal static class Bench
{
    private const int CloneNewNet = 0x40000000;

    [DllImport("libc", SetLastError = true)]
    private static extern int unshare(int flags);

    public static int Run(int serviceCount, int destinationCount)
    {
        using (IpvsClient.Open(loadModule: true))
        {
            // ip_vs is loaded; every new namespace gets its own IPVS table.
        }
        var table = new List<IpvsTableEntry>();
        for (var s = 0; s < serviceCount; s++)
        {
            var service = IpvsService.Tcp(new IPAddress([10, 1, (byte)(s / 250), (byte)(s % 250 + 1)]), 80, "wlc");
            var destinations = new List<IpvsDestination>();
            for (var d = 0; d < destinationCount; d++)
            {
                destinations.Add(new IpvsDestination { Address = new IPAddress([10, 2, (byte)s, (byte)(d + 1)]), Port = 80, Weight = 1 + d % 5 });
            }
            table.Add(new IpvsTableEntry(service, destinations));
        }
        var operations = new List<IpvsOperation>();
        foreach (var (service, destinations) in table)
        {
            operations.Add(IpvsOperation.AddService(service));
            operations.AddRange(destinations.Select(d => IpvsOperation.AddDestination(service, d)));
        }
        var rules = IpvsFormatter.Save(table);
        File.WriteAllText("/tmp/bench.rules", rules);
        var total = serviceCount * destinationCount;
        Console.WriteLine($"bench: {serviceCount} services x {destinationCount} destinations = {total} destinations, {operations.Count} writes; ipvsadm-restore input {rules.Length / 1024} KiB");

        var ours = new List<double>();
        var theirs = new List<double>();
        var reads = new List<(double Ours, double Theirs)>();
        for (var round = 1; round <= 3; round++)
        {
            theirs.Add(Restore(total));
            Thread.Sleep(500);
            var (apply, read, save) = InFreshNamespace(() => Ours(operations, total));
            ours.Add(apply);
            reads.Add((read, save));
            Thread.Sleep(500);
            Console.WriteLine($"bench: round {round}: ipvsadm-restore {theirs[^1]:F0} ms, LvsEvents.Ipvs {ours[^1]:F0} ms ({ours[^1] / theirs[^1]:F2}x); read back: ours {read:F0} ms, `ipvsadm -S -n` {save:F0} ms");
        }
        var medianOurs = Median(ours);
        var medianTheirs = Median(theirs);
        Console.WriteLine($"bench: full sync of {total} destinations, median of 3: LvsEvents.Ipvs {medianOurs:F0} ms, ipvsadm-restore {medianTheirs:F0} ms, ratio {medianOurs / medianTheirs:F2}x (target <= 1.0x)");
        // One weight change at a time (what an incremental health event costs): 1,000 SET_DEST round trips.
        var latencies = InFreshNamespace(() =>
        {
            Shell.Check("ip link set lo up");
            using var client = IpvsClient.Open();
            var service = table[0].Service;
            client.AddService(service);
            var destination = table[0].Destinations[0];
            client.AddDestination(service, destination);
            var samples = new List<double>();
            for (var i = 0; i < 1100; i++)
            {
                var watch = Stopwatch.StartNew();
                client.UpdateDestination(service, destination with { Weight = 1 + i % 7 });
                if (i >= 100)
                {
                    samples.Add(watch.Elapsed.TotalMicroseconds);
                }
            }
            client.Flush();
            samples.Sort();
            return samples;
        });
        Console.WriteLine($"bench: one weight change (SET_DEST round trip), 1,000 after 100 warm-up: p50 {latencies[latencies.Count / 2]:F0} µs, p99 {latencies[latencies.Count * 99 / 100]:F0} µs, max {latencies[^1]:F0} µs (under TCG)");
        // The writer is a long-running service, so the numbers above leave out .NET's start; this one includes it.
        var dll = typeof(Bench).Assembly.Location;
        var whole = Shell.Check($"unshare -n sh -c 'ip link set lo up; s=$(date +%s%N); dotnet {dll} bench-apply {serviceCount} {destinationCount} || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 ))'");
        var wholeMs = long.Parse(whole.Trim().Split('\n')[^1]) / 1000.0;
        Console.WriteLine($"bench: whole process (dotnet start + build + apply + exit): {wholeMs:F0} ms, ratio to ipvsadm-restore {wholeMs / medianTheirs:F2}x");
        Console.WriteLine($"bench: read back, median of 3: LvsEvents.Ipvs {Median(reads.Select(r => r.Ours).ToList()):F0} ms, `ipvsadm -S -n` {Median(reads.Select(r => r.Theirs).ToList()):F0} ms");
        File.Delete("/tmp/bench.rules");
        return 0;
    }

    /// <summary>One full sync in this process's namespace (for timing a whole process).</summary>
    public static int ApplyOnce(int serviceCount, int destinationCount)
    {
        using var client = IpvsClient.Open();
        var operations = new List<IpvsOperation>();
        for (var s = 0; s < serviceCount; s++)
        {
            var service = IpvsService.Tcp(new IPAddress([10, 1, (byte)(s / 250), (byte)(s % 250 + 1)]), 80, "wlc");
            operations.Add(IpvsOperation.AddService(service));
            for (var d = 0; d < destinationCount; d++)
            {
                operations.Add(IpvsOperation.AddDestination(service, new IpvsDestination { Address = new IPAddress([10, 2, (byte)s, (byte)(d + 1)]), Port = 80, Weight = 1 + d % 5 }));
            }
        }
        client.ApplyOrThrow(operations);
        return 0;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>ipvsadm-restore in a fresh namespace, timed around the ipvsadm-restore process alone.</summary>
    private static double Restore(int total)
    {
        var output = Shell.Check("unshare -n sh -c 'ip link set lo up; s=$(date +%s%N); ipvsadm-restore < /tmp/bench.rules || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); ipvsadm -S -n | grep -c \"^-a\"'");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (int.Parse(lines[1]) != total)
        {
            throw new InvalidOperationException($"ipvsadm-restore left {lines[1]} destinations");
        }
        return long.Parse(lines[0]) / 1000.0;
    }

    private static (double Apply, double Read, double Save) Ours(List<IpvsOperation> operations, int total)
    {
        // Child processes start in this thread's namespace. Without lo up the kernel refuses real servers (EINVAL).
        Shell.Check("ip link set lo up");
        using var client = IpvsClient.Open();
        if (client.GetServices().Count != 0)
        {
            throw new InvalidOperationException("the fresh namespace is not empty");
        }
        var watch = Stopwatch.StartNew();
        client.ApplyOrThrow(operations);
        var apply = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        var read = client.GetTable();
        var readTime = watch.Elapsed.TotalMilliseconds;
        if (read.Sum(e => e.Destinations.Count) != total)
        {
            throw new InvalidOperationException($"LvsEvents.Ipvs left {read.Sum(e => e.Destinations.Count)} destinations");
        }
        // ipvsadm -S -n of the same table (started from this thread, so in its namespace).
        var output = Shell.Check("s=$(date +%s%N); ipvsadm -S -n > /dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 ))");
        client.Flush();
        return (apply, readTime, long.Parse(output.Trim()) / 1000.0);
    }

    private static T InFreshNamespace<T>(Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (unshare(CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"unshare(CLONE_NEWNET): errno {Marshal.GetLastPInvokeError()}");
                }
                result = body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException("benchmark thread failed", failure);
        }
        return result;
    }
}
