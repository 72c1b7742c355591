using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Reconciliation;
using LvsEvents.Keepalived;
using Microsoft.Extensions.Logging.Abstractions;

// lvs-ipvs-writer-bench [--services 100] [--destinations 100] [--runs 5] [--changes 1000]
// lvs-ipvs-writer-bench ipvs-check   (on an IPVS kernel: the writer's IPVS path against ipvsadm; see IpvsCheck.cs)
if (args is ["ipvs-check", ..])
{
    return await IpvsCheck.RunAsync();
}

// Everything happens in network namespaces of its own (lvw-XXXXXX-bench-N), deleted at the end, also on failure.
var services = Option("--services", 100);
var destinations = Option("--destinations", 100);
var runs = Option("--runs", 5);
var changes = Option("--changes", 1000);
var id = "lvw-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)) + "-bench";
var namespaces = new List<string>();
var directory = Directory.CreateTempSubdirectory("lvw-bench-").FullName;
try
{
    var config = Configuration(services, destinations);
    var parsed = ConfigurationParser.ParseText(config);
    if (parsed.HasErrors)
    {
        throw new InvalidOperationException(string.Join('\n', parsed.Errors));
    }

    async Task Resync(NftablesBackend backend)
    {
        using var reconciler = new Reconciler(backend, new CountingEmitter(), parsed.Configuration, TimeProvider.System, NullLogger<Reconciler>.Instance);
        var operations = await reconciler.ResyncAsync(default);
        if (reconciler.Applied!.DestinationCount != services * destinations || operations.Count != services * (destinations + 1))
        {
            throw new InvalidOperationException($"sync applied {operations.Count} operations");
        }
    }

    Console.WriteLine($"ipvs-writer nftables benchmark: {services} services x {destinations} destinations = {services * destinations} destinations, {runs} runs each, {Environment.ProcessorCount} cores");

    // Full sync, ours: an empty namespace, a reconciler, ResyncAsync (read the kernel, desired from the parsed
    // configuration, diff, one atomic nf_tables transaction written over netlink, events to an in-memory emitter).
    // Fresh namespace per run. The same through libnftables (nft's parser in-process, the previous write path) is
    // timed too, for reference.
    var ours = new List<double>();
    var library = new List<double>();
    var peer = new List<double>();
    string? ruleset = null;
    for (var run = 0; run <= runs; run++)
    {
        var ns = NewNamespace();
        using var nft = new LibNftables(ns);
        var backend = new NftablesBackend(nft);
        if (backend.WritePath != "netlink")
        {
            throw new InvalidOperationException($"the backend writes through {backend.WritePath}, not netlink");
        }

        var clock = Stopwatch.StartNew();
        await Resync(backend);
        clock.Stop();
        ruleset ??= backend.LastTransaction;
        if (run > 0)
        {
            ours.Add(clock.Elapsed.TotalMilliseconds);
        }

        // libnftables, for reference: same reconciler, transaction text through nft's parser in-process.
        var libraryNs = NewNamespace();
        using (var libraryNft = new LibNftables(libraryNs))
        {
            var libraryBackend = new NftablesBackend(libraryNft, netlink: false);
            clock.Restart();
            await Resync(libraryBackend);
            clock.Stop();
            if (run > 0)
            {
                library.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        // Peer: `nft -f` of the same ruleset (the same transaction text, so exactly equivalent), in another fresh namespace.
        var file = Path.Combine(directory, "ruleset.nft");
        await File.WriteAllTextAsync(file, ruleset);
        var peerNs = NewNamespace();
        clock.Restart();
        Run("ip", $"netns exec {peerNs} nft -f {file}");
        clock.Stop();
        if (run > 0)
        {
            peer.Add(clock.Elapsed.TotalMilliseconds);
        }

        // Same table in all three (nft's own listing, text equal)?
        if (run == 0)
        {
            var peerListing = Run("ip", $"netns exec {peerNs} nft list table ip lvsevents");
            if (peerListing != Run("ip", $"netns exec {ns} nft list table ip lvsevents") || peerListing != Run("ip", $"netns exec {libraryNs} nft list table ip lvsevents"))
            {
                throw new InvalidOperationException("the tables differ (netlink, libnftables, nft -f)");
            }
        }

        DeleteNamespace(peerNs);
        DeleteNamespace(libraryNs);
        if (run < runs)
        {
            DeleteNamespace(ns);
        }
    }

    Console.WriteLine($"full sync, ours (reconciler resync, nf_tables netlink): median {Median(ours):F0} ms  min {ours.Min():F0} ms");
    Console.WriteLine($"full sync, same through libnftables (reference):      median {Median(library):F0} ms  min {library.Min():F0} ms");
    Console.WriteLine($"full sync, nft -f of the same ruleset (process):      median {Median(peer):F0} ms  min {peer.Min():F0} ms");
    Console.WriteLine($"ratio ours/nft -f (median): {Median(ours) / Median(peer):F2}  (libnftables/nft -f: {Median(library) / Median(peer):F2})");

    // Incremental: with the whole table in place, one set-weight command at a time through HandleAsync
    // (event received → desired → diff → one nf_tables transaction for that service over netlink → returned once the
    // kernel committed it).
    var last = namespaces[^1];
    using (var nft = new LibNftables(last))
    {
        var backend = new NftablesBackend(nft);
        using var reconciler = new Reconciler(backend, new CountingEmitter(), parsed.Configuration, TimeProvider.System, NullLogger<Reconciler>.Instance);
        await reconciler.ResyncAsync(default);
        var latencies = new List<double>(changes);
        var random = new Random(1);
        for (var i = 0; i < changes + 50; i++)
        {
            var s = random.Next(services);
            var d = random.Next(destinations);
            var command = new SetWeightCommand
            {
                EventId = Guid.CreateVersion7(),
                RealServer = RealServerRef.Parse($"TCP/10.{100 + s / 250}.{s % 250}.1:80->10.200.{s % 250}.{d + 1}:80"),
                Weight = 2 + i % 7,
                Cause = WeightChangeCause.Operator,
                RequestedBy = "bench",
            };
            var clock = Stopwatch.StartNew();
            var applied = await reconciler.HandleAsync(command, default);
            clock.Stop();
            if (applied.Count != 1 && !(applied.Count == 0 && command.Weight == reconciler.Applied!.Services.Values.ElementAt(s).Destinations.Values.ElementAt(d).Weight))
            {
                throw new InvalidOperationException($"change {i} applied {applied.Count} operations");
            }

            if (i >= 50 && applied.Count == 1)
            {
                latencies.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        var read = await backend.ReadAsync(default);
        if (!read.SameRules(reconciler.Applied!))
        {
            throw new InvalidOperationException("after the changes the kernel differs from what was applied");
        }

        latencies.Sort();
        Console.WriteLine($"incremental weight change, event → kernel applied, {latencies.Count} changes on the {services * destinations}-destination table: " +
            $"p50 {Percentile(latencies, 0.50):F2} ms  p99 {Percentile(latencies, 0.99):F2} ms  max {latencies[^1]:F2} ms");
    }

    return 0;
}
finally
{
    foreach (var ns in namespaces.ToList())
    {
        DeleteNamespace(ns);
    }

    Directory.Delete(directory, true);
}

string NewNamespace()
{
    var ns = $"{id}-{namespaces.Count}";
    Run("ip", $"netns add {ns}");
    namespaces.Add(ns);
    return ns;
}

void DeleteNamespace(string ns)
{
    if (namespaces.Remove(ns))
    {
        Run("ip", $"netns del {ns}");
    }
}

int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static string Configuration(int services, int destinations)
{
    var text = new StringBuilder();
    for (var s = 0; s < services; s++)
    {
        text.Append(CultureInfo.InvariantCulture, $"virtual_server 10.{100 + s / 250}.{s % 250}.1 80 {{\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n");
        for (var d = 0; d < destinations; d++)
        {
            text.Append(CultureInfo.InvariantCulture, $"    real_server 10.200.{s % 250}.{d + 1} 80 {{\n        weight {1 + d % 5}\n    }}\n");
        }

        text.Append("}\n");
    }

    return text.ToString();
}

static double Median(List<double> values) => Percentile([.. values.Order()], 0.5);

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static string Run(string file, string arguments)
{
    var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
    using var process = Process.Start(info)!;
    var stdout = process.StandardOutput.ReadToEndAsync();
    var stderr = process.StandardError.ReadToEndAsync();
    if (!process.WaitForExit(60_000))
    {
        process.Kill(true);
        throw new TimeoutException($"`{file} {arguments}` timed out");
    }

    return process.ExitCode == 0 ? stdout.Result : throw new InvalidOperationException($"`{file} {arguments}` failed: {stderr.Result}");
}

/// <summary>Counts events instead of spooling them: the benchmark measures the kernel path.</summary>
internal sealed class CountingEmitter : IEventEmitter
{
    public int Count { get; private set; }

    public ValueTask<LvsEvent> EmitAsync(LvsEvent e, CancellationToken cancellationToken = default)
    {
        Count++;
        return ValueTask.FromResult(e);
    }
}
