using System.Globalization;
using LvsEvents.Vrrp.Bench;

if (args.FirstOrDefault() == "parts")
{
    var samples = args.Length >= 3 && args[1] == "--samples" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
    return TakeoverPartsBenchmark.Run(samples);
}

if (args.FirstOrDefault() != "failover")
{
    Console.Error.WriteLine("""
        usage: lvs-vrrp-bench failover [--runs 3] [--intervals 1,0.1,0.02] [--speaker-debug-log true]
            kill -9 of the master -> VIP on the backup, for keepalived pairs and lvs-vrrp pairs in the same
            namespace lab, with the outage a client sees connecting to the VIP every 10 ms; prints ours/keepalived.
            Needs root (network namespaces), keepalived and a built lvs-vrrp (Release). --speaker-debug-log runs
            lvs-vrrp at Debug and prints its backup's timing of each takeover (diagnosis, not for the table).
        lvs-vrrp-bench parts [--samples 200]
            the pieces of a backup's takeover on their own, now and before: master-down wake-up, how late a
            thread reads an advert after the kernel got it, VIP add by index or after a lookup, advert send.
        """);
    return 2;
}

var runs = 3;
var speakerDebugLog = false;
double[] intervals = [1, 0.1, 0.02];
for (var i = 1; i < args.Length - 1; i += 2)
{
    switch (args[i])
    {
        case "--runs":
            runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        case "--intervals":
            intervals = args[i + 1].Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            break;
        case "--speaker-debug-log":
            speakerDebugLog = bool.Parse(args[i + 1]);
            break;
        default:
            Console.Error.WriteLine($"lvs-vrrp-bench: unknown option {args[i]}");
            return 2;
    }
}

return await FailoverBenchmark.RunAsync(runs, intervals, speakerDebugLog);
