using System.Globalization;

namespace LvsEvents.Vrrp.Bench;

/// <summary>Failover of keepalived pairs and lvs-vrrp pairs, alternated in one run, and the ratio ours/keepalived.</summary>
public static class FailoverBenchmark
{
    public static async Task<int> RunAsync(int runs, IReadOnlyList<double> intervals, bool speakerDebugLog = false)
    {
        var rabbitMq = Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq");
        Console.WriteLine($"failover benchmark: the master crashes (link down by rtnetlink, then kill -9) right after one of its adverts -> VIP on the backup (rtnetlink notification); {runs} runs per speaker and interval, alternating");
        var rows = new List<string>();
        var worst = 0.0;
        var falseFailovers = 0;
        foreach (var interval in intervals)
        {
            var results = new Dictionary<Speaker, List<FailoverResult>> { [Speaker.Keepalived] = [], [Speaker.Ours] = [] };
            for (var run = 0; run < runs; run++)
            {
                foreach (var speaker in new[] { Speaker.Keepalived, Speaker.Ours })
                {
                    var result = await FailoverRun.RunAsync(speaker, interval, rabbitMq, speakerDebugLog);
                    results[speaker].Add(result);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  advert_int {interval,-5} {Name(speaker),-10} run {run + 1}: VIP moved in {result.VipMoved.TotalSeconds:0.00000} s ({result.SinceLastAdvert.TotalSeconds:0.00000} s after the master's last advert; crash {result.CrashAfterAdvert.TotalMilliseconds:0.000} ms after it), client outage {result.ClientOutage.TotalSeconds:0.000} s{(result.FalseFailoverBeforeCrash ? " (the backup took the VIP during the steady state before the crash!)" : "")}"));
                }
            }
            var k = results[Speaker.Keepalived];
            var o = results[Speaker.Ours];
            var ratio = Median(o.Select(r => r.VipMoved)) / Median(k.Select(r => r.VipMoved));
            var protocolRatio = Median(o.Select(r => r.SinceLastAdvert)) / Median(k.Select(r => r.SinceLastAdvert));
            worst = Math.Max(worst, ratio);
            falseFailovers += results.Values.SelectMany(r => r).Count(r => r.FalseFailoverBeforeCrash);
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {interval} s | {Summary(k.Select(r => r.VipMoved))} | {Summary(o.Select(r => r.VipMoved))} | **{ratio:0.0000}** | {Median(k.Select(r => r.SinceLastAdvert)):0.00000} / {Median(o.Select(r => r.SinceLastAdvert)):0.00000} s ({protocolRatio:0.0000}) | {Median(k.Select(r => r.ClientOutage)):0.000} s | {Median(o.Select(r => r.ClientOutage)):0.000} s |"));
        }
        Console.WriteLine();
        Console.WriteLine("| advert_int | keepalived: crash → VIP, median [min–max] | lvs-vrrp: crash → VIP, median [min–max] | ratio ours/keepalived (medians) | master's last advert → VIP, keepalived / ours (ratio) | client outage keepalived (median) | client outage lvs-vrrp (median) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine($"false failovers before the crash (backup took the VIP while the master was alive): {falseFailovers}");
        // A false failover fails the run whatever the ratio: a faster takeover bought with one is no takeover at all.
        Console.WriteLine(worst <= 1.0 && falseFailovers == 0
            ? string.Create(CultureInfo.InvariantCulture, $"target met: ours/keepalived <= 1.0 at every interval (worst {worst:0.0000}), no false failover")
            : string.Create(CultureInfo.InvariantCulture, $"target missed: ours/keepalived is {worst:0.0000} at worst, {falseFailovers} false failover(s)"));
        return worst <= 1.0 && falseFailovers == 0 ? 0 : 1;
    }

    private static string Name(Speaker s) => s == Speaker.Ours ? "lvs-vrrp" : "keepalived";

    private static double Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Select(v => v.TotalSeconds).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Summary(IEnumerable<TimeSpan> values)
    {
        var list = values.ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{Median(list):0.00000} s [{list.Min().TotalSeconds:0.00000}–{list.Max().TotalSeconds:0.00000}]");
    }
}
