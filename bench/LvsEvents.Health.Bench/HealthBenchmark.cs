using System.Diagnostics;
using System.Globalization;
using System.Text;
using LvsEvents.Eventing;
using LvsEvents.Eventing.Spool;
using LvsEvents.Health.Reporting;
using LvsEvents.Keepalived;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.Health.Bench;

/// <summary>
/// 10,000 real servers checked at delay_loop 1 by our engine (every result an event through the real emitter into a
/// real fsync'd spool, drained and acknowledged as the publisher would), then by HAProxy at inter 1s, each for the
/// same time, against the same servers in a separate process. CPU is each checker process's own (utime + stime).
/// With several rounds the two take turns (ours, HAProxy, ours, ...), so that a slow drift of the machine (a VM's
/// neighbours, its caches) weighs on both alike; the ratio is of the totals.
/// </summary>
internal static class HealthBenchmark
{
    public static async Task<int> RunAsync(int servers, int seconds, int warmup, bool skipHaproxy, int rounds = 1)
    {
        var directory = Directory.CreateTempSubdirectory("lvs-health-bench-").FullName;
        using var serverProcess = StartServers(servers);
        try
        {
            var ready = await serverProcess.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (ready != "ready")
            {
                throw new InvalidOperationException($"servers did not start: {ready} {await serverProcess.StandardError.ReadToEndAsync()}");
            }

            var ourRounds = new List<Measurement>();
            var haproxyRounds = new List<Measurement>();
            for (var round = 1; round <= rounds; round++)
            {
                ourRounds.Add(await RunOursAsync(servers, seconds, warmup, directory, serverProcess));
                try
                {
                    if (!skipHaproxy && await RunHaproxyAsync(servers, seconds, warmup, directory, serverProcess) is { } measured)
                    {
                        haproxyRounds.Add(measured);
                    }
                }
                catch (InvalidOperationException e)
                {
                    Console.Error.WriteLine(e.Message);
                    skipHaproxy = true;
                }

                if (rounds > 1)
                {
                    var line = string.Create(CultureInfo.InvariantCulture, $"round {round}/{rounds}: ours {ourRounds[^1].Cores:F3} cores");
                    Console.Error.WriteLine(haproxyRounds.Count == round
                        ? line + string.Create(CultureInfo.InvariantCulture, $", haproxy {haproxyRounds[^1].Cores:F3}")
                        : line);
                }
            }

            var ours = Measurement.Combine(ourRounds);
            var haproxy = haproxyRounds.Count == rounds ? Measurement.Combine(haproxyRounds) : null;
            Print(servers, seconds, rounds, ours, haproxy);
            if (rounds > 1)
            {
                PrintRounds(ourRounds, haproxy is null ? null : haproxyRounds);
            }

            return ours.MissedIntervals == 0 ? 0 : 1;
        }
        finally
        {
            serverProcess.StandardInput.Close();
            if (!serverProcess.WaitForExit(10_000))
            {
                serverProcess.Kill(entireProcessTree: true);
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static Process StartServers(int servers)
    {
        var start = new ProcessStartInfo("dotnet", [typeof(HealthBenchmark).Assembly.Location, "serve", "--servers", servers.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the servers");
    }

    /// <summary>Connections the servers accepted so far: all, and those of the HTTP servers.</summary>
    private static async Task<(long All, long Http)> AcceptedAsync(Process servers)
    {
        await servers.StandardInput.WriteLineAsync("count");
        await servers.StandardInput.FlushAsync();
        var counts = (await servers.StandardOutput.ReadLineAsync() ?? "0 0").Split(' ');
        return (long.Parse(counts[0], CultureInfo.InvariantCulture), long.Parse(counts[1], CultureInfo.InvariantCulture));
    }

    internal static string Configuration(int servers)
    {
        var text = new StringBuilder();
        const int perService = 100;
        for (var service = 0; service * perService < servers; service++)
        {
            text.Append(CultureInfo.InvariantCulture, $$"""
                virtual_server 10.80.{{service / 250}}.{{(service % 250) + 1}} 80 {
                    delay_loop 1
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP

                """);
            for (var i = service * perService; i < Math.Min(servers, (service + 1) * perService); i++)
            {
                var at = BenchServers.Endpoint(i, servers);
                var checker = at.Port == BenchServers.TcpPort
                    ? "TCP_CHECK {\n connect_timeout 2\n }"
                    : "HTTP_GET {\n url {\n path /health\n status_code 200\n }\n connect_timeout 2\n }";
                text.Append(CultureInfo.InvariantCulture, $"    real_server {at.Address} {at.Port} {{\n        weight 1\n        {checker}\n    }}\n");
            }

            text.Append("}\n");
        }

        return text.ToString();
    }

    private static async Task<Measurement> RunOursAsync(int servers, int seconds, int warmup, string directory, Process serverProcess)
    {
        var parsed = ConfigurationParser.ParseText(Configuration(servers));
        if (parsed.Errors.Any())
        {
            throw new InvalidOperationException(string.Join("\n", parsed.Errors));
        }

        await using var spool = DurableEventSpool.Open(Path.Combine(directory, "spool"), NullLogger.Instance);
        var emitter = new EventEmitter(spool, new ServiceIdentity("bench-director", "health"), TimeProvider.System);
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var outbox = new EventOutbox(emitter, loggers.CreateLogger<EventOutbox>());
        var engine = new HealthEngine(parsed.Configuration, outbox, TimeProvider.System, new HealthOptions(), loggers.CreateLogger<HealthEngine>());
        using var stop = new CancellationTokenSource();
        var running = Task.WhenAll(outbox.RunAsync(stop.Token), engine.RunAsync(stop.Token), DrainAsync(spool, stop.Token));

        await Task.Delay(TimeSpan.FromSeconds(warmup));
        engine.Scheduler.Statistics.Reset();
        var self = Process.GetCurrentProcess();
        self.Refresh();
        var cpu0 = self.TotalProcessorTime;
        var accepted0 = await AcceptedAsync(serverProcess);
        var probes0 = engine.Checkers.ToDictionary(c => c, c => c.ProbeCount);
        var succeeded0 = engine.ProbesSucceeded;
        var failed0 = engine.ProbesFailed;
        var emitted0 = outbox.Emitted;
        int[] gcs0 = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var clock = Stopwatch.StartNew();
        long peakRss = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            await Task.Delay(1000);
            self.Refresh();
            peakRss = Math.Max(peakRss, self.WorkingSet64);
        }

        self.Refresh();
        var cpu = self.TotalProcessorTime - cpu0;
        var elapsed = clock.Elapsed;
        int[] gcs = [GC.CollectionCount(0) - gcs0[0], GC.CollectionCount(1) - gcs0[1], GC.CollectionCount(2) - gcs0[2]];
        var accepted1 = await AcceptedAsync(serverProcess);
        var statistics = engine.Scheduler.Statistics;
        var perChecker = engine.Checkers.Select(c => c.ProbeCount - probes0[c]).ToList();
        var result = new Measurement(
            "lvs-health engine",
            elapsed,
            cpu,
            peakRss,
            accepted1.All - accepted0.All,
            accepted1.Http - accepted0.Http,
            statistics.Started,
            engine.ProbesSucceeded - succeeded0,
            engine.ProbesFailed - failed0,
            outbox.Emitted - emitted0,
            statistics.MissedIntervals,
            statistics.LatenessPercentile(0.50),
            statistics.LatenessPercentile(0.99),
            statistics.MaxLateness,
            perChecker.Min(),
            // delay_loop 1 after each result: a checker with a result a second (less its probe time) never missed a loop.
            perChecker.Count(n => n < (int)(elapsed.TotalSeconds * 0.95)),
            outbox.Posted - outbox.Emitted,
            gcs);
        await stop.CancelAsync();
        await running;
        return result;
    }

    /// <summary>Reads and acknowledges the spool as the publisher does (without a broker), so the disk does not fill.</summary>
    private static async Task DrainAsync(DurableEventSpool spool, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var records = await spool.ReadAsync(10_000, cancellationToken);
                spool.Acknowledge(records[^1].Sequence);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<Measurement?> RunHaproxyAsync(int servers, int seconds, int warmup, string directory, Process serverProcess)
    {
        var config = Path.Combine(directory, "haproxy.cfg");
        var text = new StringBuilder("""
            global
                maxconn 2000
                log stdout format raw local0 emerg
            defaults
                timeout connect 2s
                timeout client 5s
                timeout server 5s
                timeout check 2s
            frontend unused
                mode tcp
                bind 127.81.0.1:18090
                default_backend tcp_servers
            backend tcp_servers
                mode tcp

            """);
        for (var i = 0; i < servers / 2; i++)
        {
            var at = BenchServers.Endpoint(i, servers);
            text.Append(CultureInfo.InvariantCulture, $"    server t{i} {at.Address}:{at.Port} check inter 1s\n");
        }

        text.Append("backend http_servers\n    mode http\n    option httpchk GET /health\n");
        for (var i = servers / 2; i < servers; i++)
        {
            var at = BenchServers.Endpoint(i, servers);
            text.Append(CultureInfo.InvariantCulture, $"    server h{i} {at.Address}:{at.Port} check inter 1s\n");
        }

        await File.WriteAllTextAsync(config, text.ToString());
        using var haproxy = Process.Start(new ProcessStartInfo("haproxy", ["-db", "-f", config]) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("could not start haproxy");
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(warmup));
            if (haproxy.HasExited)
            {
                throw new InvalidOperationException($"haproxy exited: {await haproxy.StandardError.ReadToEndAsync()}");
            }

            var cpu0 = ProcessCpu(haproxy.Id);
            var accepted0 = await AcceptedAsync(serverProcess);
            var clock = Stopwatch.StartNew();
            long peakRss = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await Task.Delay(1000);
                haproxy.Refresh();
                peakRss = Math.Max(peakRss, haproxy.WorkingSet64);
            }

            var cpu = ProcessCpu(haproxy.Id) - cpu0;
            var accepted1 = await AcceptedAsync(serverProcess);
            return new Measurement(
                "haproxy " + HaproxyVersion(), clock.Elapsed, cpu, peakRss, accepted1.All - accepted0.All, accepted1.Http - accepted0.Http, 0, 0, 0, 0, 0, default, default, default, 0, 0, 0, [0, 0, 0]);
        }
        finally
        {
            haproxy.Kill(entireProcessTree: true);
            await haproxy.WaitForExitAsync();
        }
    }

    /// <summary>utime + stime of a process, from /proc (all its threads).</summary>
    private static TimeSpan ProcessCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    private static string HaproxyVersion()
    {
        using var p = Process.Start(new ProcessStartInfo("haproxy", ["-v"]) { RedirectStandardOutput = true })!;
        var line = p.StandardOutput.ReadLine() ?? "";
        p.WaitForExit();
        return line.Split(' ').Skip(2).FirstOrDefault() ?? "?";
    }

    private static void Print(int servers, int seconds, int rounds, Measurement ours, Measurement? haproxy)
    {
        var i = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(i, $"{servers} real servers ({servers / 2} TCP_CHECK, {servers / 2} HTTP_GET), delay_loop 1 / inter 1s, {seconds} s measured each after warm-up")
            + (rounds > 1 ? string.Create(i, $", in {rounds} rounds taking turns ({rounds * seconds} s each in all)") : ""));
        Console.WriteLine();
        Console.WriteLine("| | lvs-health engine | " + (haproxy?.Name ?? "haproxy (skipped)") + " |");
        Console.WriteLine("|---|---|---|");
        Row("connections accepted by the servers /s (all)", m => (m.Accepted / m.Elapsed.TotalSeconds).ToString("F0", i));
        Row("connections accepted by the HTTP servers /s", m => (m.AcceptedHttp / m.Elapsed.TotalSeconds).ToString("F0", i));
        Row("CPU (cores, user+sys)", m => (m.Cpu.TotalSeconds / m.Elapsed.TotalSeconds).ToString("F3", i));
        Row("peak RSS (MiB)", m => (m.PeakRss / 1048576.0).ToString("F0", i));
        Console.WriteLine(string.Create(i, $"| probes started / succeeded / failed | {ours.Started} / {ours.Succeeded} / {ours.Failed} | |"));
        Console.WriteLine(string.Create(i, $"| probe events spooled (fsync'd) | {ours.Emitted} (backlog at end {ours.Backlog}) | |"));
        Console.WriteLine(string.Create(i, $"| missed intervals (started ≥ 1 delay_loop late) | {ours.MissedIntervals} | |"));
        Console.WriteLine(string.Create(i, $"| scheduling lateness p50 / p99 / max (ms) | {ours.P50.TotalMilliseconds:F0} / {ours.P99.TotalMilliseconds:F0} / {ours.Max.TotalMilliseconds:F1} | |"));
        Console.WriteLine(string.Create(i, $"| fewest results of one checker in a round / checker-rounds under 95 % of {seconds} | {ours.FewestPerChecker} / {ours.CheckersShort} | |"));
        Console.WriteLine(string.Create(i, $"| garbage collections gen0 / gen1 / gen2 | {ours.Collections[0]} / {ours.Collections[1]} / {ours.Collections[2]} | |"));
        if (haproxy is not null)
        {
            var ratio = ours.Cores / haproxy.Cores;
            Console.WriteLine();
            Console.WriteLine(string.Create(i, $"CPU ratio ours / haproxy: {ratio:F2}"));
        }

        void Row(string name, Func<Measurement, string> value) =>
            Console.WriteLine($"| {name} | {value(ours)} | {(haproxy is null ? "" : value(haproxy))} |");
    }

    /// <summary>Each round's CPU and ratio, in the order they ran.</summary>
    private static void PrintRounds(List<Measurement> ours, List<Measurement>? haproxy)
    {
        var i = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("| round | ours (cores) | haproxy (cores) | ratio | missed | lateness p99 (ms) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        for (var r = 0; r < ours.Count; r++)
        {
            var h = haproxy?[r];
            Console.WriteLine(string.Create(i,
                $"| {r + 1} | {ours[r].Cores:F3} | {(h is null ? "" : h.Cores.ToString("F3", i))} | {(h is null ? "" : (ours[r].Cores / h.Cores).ToString("F2", i))} | {ours[r].MissedIntervals} | {ours[r].P99.TotalMilliseconds:F0} |"));
        }
    }

    private sealed record Measurement(
        string Name, TimeSpan Elapsed, TimeSpan Cpu, long PeakRss, long Accepted, long AcceptedHttp, long Started, long Succeeded, long Failed, long Emitted,
        long MissedIntervals, TimeSpan P50, TimeSpan P99, TimeSpan Max, int FewestPerChecker, int CheckersShort, long Backlog, int[] Collections)
    {
        public double Cores => Cpu.TotalSeconds / Elapsed.TotalSeconds;

        /// <summary>
        /// Several rounds as one: totals for CPU, time, counts; the worst for lateness, RSS and the fewest results
        /// (percentiles are not added up: p50 and p99 are the worst round's).
        /// </summary>
        public static Measurement Combine(IReadOnlyList<Measurement> rounds) => rounds.Count == 1 ? rounds[0] : new(
            rounds[0].Name,
            TimeSpan.FromTicks(rounds.Sum(r => r.Elapsed.Ticks)),
            TimeSpan.FromTicks(rounds.Sum(r => r.Cpu.Ticks)),
            rounds.Max(r => r.PeakRss),
            rounds.Sum(r => r.Accepted),
            rounds.Sum(r => r.AcceptedHttp),
            rounds.Sum(r => r.Started),
            rounds.Sum(r => r.Succeeded),
            rounds.Sum(r => r.Failed),
            rounds.Sum(r => r.Emitted),
            rounds.Sum(r => r.MissedIntervals),
            rounds.Max(r => r.P50),
            rounds.Max(r => r.P99),
            rounds.Max(r => r.Max),
            rounds.Min(r => r.FewestPerChecker),
            rounds.Sum(r => r.CheckersShort),
            rounds.Max(r => r.Backlog),
            [rounds.Sum(r => r.Collections[0]), rounds.Sum(r => r.Collections[1]), rounds.Sum(r => r.Collections[2])]);
    }
}
