using System.Diagnostics;
using System.Net;
using LvsEvents.Ipvs;

namespace LvsEvents.Ipvs.VmTests;

/// <summary>
/// Full sync of services × destinations into an empty table: our batched netlink writes vs ipvsadm-restore of
/// the same rules (its own process, as an operator would run it), both in this guest, two rounds each.
/// </summary>
internal static class Bench
{
    public static int Run(int serviceCount, int destinationCount)
    {
        using var client = IpvsClient.Open(loadModule: true);
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
        Console.WriteLine($"bench: {serviceCount} services x {destinationCount} destinations = {total} destinations, {operations.Count} netlink writes");

        var ours = new List<double>();
        var theirs = new List<double>();
        for (var round = 1; round <= 2; round++)
        {
            client.Flush();
            var watch = Stopwatch.StartNew();
            Shell.Check("ipvsadm-restore < /tmp/bench.rules");
            theirs.Add(watch.Elapsed.TotalMilliseconds);
            Verify(client, table, "ipvsadm-restore");

            client.Flush();
            watch.Restart();
            client.ApplyOrThrow(operations);
            ours.Add(watch.Elapsed.TotalMilliseconds);
            Verify(client, table, "LvsEvents.Ipvs");
            Console.WriteLine($"bench: round {round}: ipvsadm-restore {theirs[^1]:F0} ms, LvsEvents.Ipvs {ours[^1]:F0} ms");
        }
        var readWatch = Stopwatch.StartNew();
        var read = client.GetTable();
        var ourRead = readWatch.Elapsed.TotalMilliseconds;
        readWatch.Restart();
        Shell.Check("ipvsadm -S -n > /dev/null");
        var theirRead = readWatch.Elapsed.TotalMilliseconds;
        Console.WriteLine($"bench: read back {read.Sum(e => e.Destinations.Count)} destinations: LvsEvents.Ipvs {ourRead:F0} ms, `ipvsadm -S -n` {theirRead:F0} ms");
        var best = ours.Min() / theirs.Min();
        Console.WriteLine($"bench: full sync ratio (ours / ipvsadm-restore, best of 2): {best:F2}x  (round 1: {ours[0] / theirs[0]:F2}x, round 2: {ours[1] / theirs[1]:F2}x)");
        client.Flush();
        File.Delete("/tmp/bench.rules");
        return 0;
    }

    private static void Verify(IpvsClient client, List<IpvsTableEntry> table, string who)
    {
        var read = client.GetTable();
        var count = read.Sum(e => e.Destinations.Count);
        if (read.Count != table.Count || count != table.Sum(e => e.Destinations.Count))
        {
            throw new InvalidOperationException($"{who} left {read.Count} services / {count} destinations");
        }
    }
}
