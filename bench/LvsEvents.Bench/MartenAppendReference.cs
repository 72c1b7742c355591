using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using Marten;

namespace LvsEvents.Bench;

/// <summary>
/// The peer the pipeline is compared with in the same run: the same kind of events appended straight
/// into the same store with Marten's own API (quick append, 1,000 events per SaveChanges), no bus, no spool.
/// </summary>
internal static class MartenAppendReference
{
    public static async Task<double> EventsPerSecondAsync(IDocumentStore store, string nodeId, int count)
    {
        var generator = new ProbeEventGenerator(nodeId);
        var stamp = new EventStamper(new ServiceIdentity(nodeId, "marten-reference"), TimeProvider.System);
        var clock = Stopwatch.StartNew();
        for (var done = 0; done < count; done += 1000)
        {
            await using var session = store.LightweightSession();
            var batch = Enumerable.Range(0, Math.Min(1000, count - done)).Select(_ => stamp.Stamp(generator.Next()));
            foreach (var stream in batch.GroupBy(e => e.StreamKey))
            {
                session.Events.Append(stream.Key, stream.Cast<object>().ToArray());
            }

            await session.SaveChangesAsync();
        }

        return count / clock.Elapsed.TotalSeconds;
    }
}
