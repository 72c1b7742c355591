using System.Globalization;
using LvsEvents.Health.Bench;

var options = args.Skip(1).Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0].TrimStart('-'), p => p[1]);
int Option(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

return args.FirstOrDefault() switch
{
    "serve" => await BenchServers.RunAsync(Option("servers", 10_000)),
    "run" => await HealthBenchmark.RunAsync(Option("servers", 10_000), Option("seconds", 60), Option("warmup", 5), options.ContainsKey("no-haproxy"), Option("rounds", 1)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: lvs-health-bench run [--servers 10000] [--seconds 60] [--warmup 5] [--rounds 1] [--no-haproxy x]
                   N real servers on 127.80.0.0/16 (half TCP_CHECK, half HTTP_GET, delay_loop 1) checked by our engine,
                   then by HAProxy (inter 1s) for the same time, taking turns for the given rounds; prints missed
                   intervals, lateness, CPU, RSS, the ratio of the totals and each round's
               lvs-health-bench serve [--servers 10000]
                   the real servers alone (started by run as a child process)
        run as root with ulimit -n of at least 3 x servers
        """);
    return 2;
}
