using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Monitor;
using LvsEvents.Monitor.Recording;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Bench;

/// <summary>
/// Sustained emission → spool → RabbitMQ → recorder → Marten, for a fixed time at a fixed offered rate.
/// Prints every second what was emitted, published and recorded and the store lag, then the sustained
/// recorded rate and whether the lag stayed bounded. Both hosts run in this process, as separate buses.
/// </summary>
internal static class PipelineBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArguments(args, "seconds", "rate", "spool", "warmup");
        var seconds = options.Number("seconds", 60);
        var warmup = options.Number("warmup", 10);
        var rate = options.Number("rate", 25_000);
        var nodeId = $"bench-{DateTime.UtcNow:yyyyMMddHHmmss}";
        var spool = options.Text("spool", Path.Combine(Path.GetTempPath(), "lvs-bench-spool-" + nodeId));

        await DropBenchSchemaAsync();
        using var monitor = BuildHost(nodeId, spool, "monitor", monitorParts: true);
        using var emitterHost = BuildHost(nodeId, spool, "bench-emitter", monitorParts: false);
        await monitor.StartAsync();
        await emitterHost.StartAsync();
        var statistics = monitor.Services.GetRequiredService<RecordingStatistics>();
        var emitter = emitterHost.Services.GetRequiredService<IEventEmitter>();
        var publisher = emitterHost.Services.GetRequiredService<SpoolPublisher>();

        // Start-up (schema, bus connections, JIT) is not throughput: wait until an event makes the whole trip.
        await emitter.EmitAsync(new ServiceStarted { Version = "bench-warmup" });
        while (statistics.RecordedEvents == 0)
        {
            await Task.Delay(50);
        }

        Console.WriteLine($"pipeline benchmark: offered {rate:N0} events/s, {warmup} s warm-up then {seconds} s measured, node {nodeId}, {Environment.ProcessorCount} cores");
        Console.WriteLine("  t(s)   emitted/s  published/s   recorded/s   spool   store lag");
        var generator = new ProbeEventGenerator(nodeId);
        var emitted = 0L;
        var clock = Stopwatch.StartNew();
        var warmupClock = Stopwatch.StartNew();
        var warmupEmitted = 0L;
        while (warmupClock.Elapsed < TimeSpan.FromSeconds(warmup))
        {
            var warmDue = (long)(warmupClock.Elapsed.TotalSeconds * rate);
            var slice = new List<Task>();
            while (warmupEmitted < warmDue)
            {
                slice.Add(emitter.EmitAsync(generator.Next()).AsTask());
                warmupEmitted++;
            }

            await Task.WhenAll(slice);
            await Task.Delay(10);
        }

        // Measured from here: the backlog of the warm-up counts against the run, not for it.
        emitted = 0;
        var emittedBefore = warmupEmitted + 1;
        clock.Restart();
        var recordedAtStart = statistics.RecordedEvents;
        var lags = new List<double>();
        var lastSecond = (Emitted: 0L, Published: publisher.Published, Recorded: recordedAtStart);
        var pending = new List<Task>();
        var tick = TimeSpan.FromMilliseconds(10);
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            // Offer the rate in 10 ms slices; each slice's emits run concurrently (the spool commits them together).
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            while (emitted < due)
            {
                pending.Add(emitter.EmitAsync(generator.Next()).AsTask());
                emitted++;
            }

            if (pending.Count > 50_000)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }

            if (clock.Elapsed.TotalSeconds >= lags.Count + 1)
            {
                var now = (Emitted: emitted, Published: publisher.Published, Recorded: statistics.RecordedEvents);
                var lag = statistics.LastLag.TotalSeconds;
                lags.Add(lag);
                Console.WriteLine($"{lags.Count,6} {now.Emitted - lastSecond.Emitted,11:N0} {now.Published - lastSecond.Published,12:N0} {now.Recorded - lastSecond.Recorded,12:N0} {emitterHost.Services.GetRequiredService<LvsEvents.Eventing.Spool.DurableEventSpool>().Depth,7:N0} {lag,9:F2} s");
                lastSecond = now;
            }

            await Task.Delay(tick);
        }

        await Task.WhenAll(pending);
        var runTime = clock.Elapsed;
        var recordedInRun = statistics.RecordedEvents - recordedAtStart;
        var drain = Stopwatch.StartNew();
        while (statistics.RecordedEvents < emittedBefore + emitted && drain.Elapsed < TimeSpan.FromSeconds(120))
        {
            await Task.Delay(100);
        }

        var recordedTotal = statistics.RecordedEvents - emittedBefore;
        var sustained = recordedInRun / runTime.TotalSeconds;
        var steady = lags.Skip(lags.Count / 2).ToList();
        // Bounded: the lag does not grow over the run (the second half never exceeds the first half's worst
        // by more than 2 s, and the run ends no worse than that worst + 1 s).
        var firstHalfWorst = lags.Take(lags.Count / 2).DefaultIfEmpty(0).Max();
        var lagBounded = steady.Count > 0 && steady.Max() <= firstHalfWorst + 2 && lags[^1] <= firstHalfWorst + 1;
        Console.WriteLine();
        Console.WriteLine($"emitted            {emitted:N0} events in {runTime.TotalSeconds:F1} s ({emitted / runTime.TotalSeconds:N0}/s offered)");
        Console.WriteLine($"recorded in run    {recordedInRun:N0} events: sustained {sustained:N0} events/s");
        // The services' own service.started events are recorded too, hence "at least".
        Console.WriteLine($"recorded in total  {recordedTotal:N0} for {emitted:N0} emitted in the run (drained {drain.Elapsed.TotalSeconds:F1} s after it)");
        Console.WriteLine($"recorder time      decode {statistics.TimeIn(RecordingStage.Decode).TotalSeconds:F1} s, store {statistics.TimeIn(RecordingStage.Store).TotalSeconds:F1} s, metrics {statistics.TimeIn(RecordingStage.Observe).TotalSeconds:F1} s");
        Console.WriteLine($"store lag          median {Percentile(lags, 0.5):F2} s, p99 {Percentile(lags, 0.99):F2} s, max {lags.DefaultIfEmpty(0).Max():F2} s; second half max {steady.DefaultIfEmpty(0).Max():F2} s");
        await emitterHost.StopAsync();
        var martenRate = await MartenAppendReference.EventsPerSecondAsync(monitor.Services.GetRequiredService<Marten.IDocumentStore>(), nodeId + "-reference", 50_000);
        Console.WriteLine($"peer (same run)    Marten's own quick append of the same mix, 1,000 per SaveChanges: {martenRate:N0} events/s");
        Console.WriteLine($"ratio              pipeline sustained / Marten direct append = {sustained / martenRate:F2}");
        var met = sustained >= 20_000 && lagBounded && recordedTotal >= emitted;
        Console.WriteLine($"target ≥ 20,000 events/s recorded with bounded lag: {(met ? "met" : "NOT met")}");

        await monitor.StopAsync();
        Directory.Delete(spool, recursive: true);
        return met ? 0 : 1;
    }

    /// <summary>The benchmark records into a schema of its own, emptied first: the product's store is left alone and every run starts alike.</summary>
    private const string BenchSchema = "lvs_bench";

    private static async Task DropBenchSchemaAsync()
    {
        await using var data = Npgsql.NpgsqlDataSource.Create(Environment.GetEnvironmentVariable("ConnectionStrings__eventstore")!);
        await using var command = data.CreateCommand($"drop schema if exists {BenchSchema} cascade");
        await command.ExecuteNonQueryAsync();
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static IHost BuildHost(string nodeId, string spool, string service, bool monitorParts)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq"),
            ["ConnectionStrings:eventstore"] = Environment.GetEnvironmentVariable("ConnectionStrings__eventstore"),
            ["ConnectionStrings:influxdb"] = Environment.GetEnvironmentVariable("ConnectionStrings__influxdb"),
            ["Eventing:NodeId"] = nodeId,
            ["Eventing:SpoolDirectory"] = spool,
            ["EventStore:Schema"] = BenchSchema,
        };
        if (monitorParts)
        {
            return MonitorHost.Build(settings, minimumLevel: LogLevel.Warning);
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddLvsEventing(builder.Configuration, service);
        return builder.Build();
    }
}
