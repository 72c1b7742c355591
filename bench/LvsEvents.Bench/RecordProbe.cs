using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.EventStore;

namespace LvsEvents.Bench;

internal static class RecordProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        var store = EventStoreSchema.CreateStore(Environment.GetEnvironmentVariable("ConnectionStrings__eventstore"));
        await EventStoreSchema.EnsureAsync(store, default);
        var recorder = EventRecorder.Create(Environment.GetEnvironmentVariable("ConnectionStrings__eventstore")!);
        var gen = new ProbeEventGenerator("probe");
        var emitter = new EventEmitter(null!, new ServiceIdentity("probe", "probe"), TimeProvider.System);
        foreach (var size in new[] { 1000, 5000, 10000 })
        {
            for (var round = 0; round < 3; round++)
            {
                var events = Enumerable.Range(0, size).Select(_ => emitter.Stamp(gen.Next())).ToList();
                var sw = Stopwatch.StartNew();
                var n = await recorder.RecordAsync(events, default);
                Console.WriteLine($"{size} events: {sw.ElapsedMilliseconds} ms ({n / sw.Elapsed.TotalSeconds:N0}/s)");
            }
        }
        return 0;
    }
}
