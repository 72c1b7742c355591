using System.Text.Json;

namespace LvsEvents.Contracts;

/// <summary>
/// The message on the bus: events of one source (node + service spool), in order. Batching keeps the
/// broker efficient at tens of thousands of events per second; each event inside stays individually
/// recorded and replayable. A quiet service sends batches of one.
/// <para>
/// <see cref="Events"/> is the events' JSON (<see cref="EventJson"/>), one per line, exactly as they were
/// spooled: no hop between the emitting service and the store parses or re-encodes them, which is most of
/// the CPU a busy director would otherwise spend on its own events. <see cref="Read"/> gives the typed
/// events; <see cref="ReadJson"/> the JSON of each.
/// </para>
/// </summary>
/// <param name="NodeId">The node whose spool the events come from.</param>
/// <param name="Service">The service whose spool the events come from.</param>
/// <param name="FirstSequence">Spool sequence of the first event; consecutive after it.</param>
/// <param name="Count">How many events <paramref name="Events"/> holds.</param>
/// <param name="Events">UTF-8 JSON of each event, separated by line feeds (compact JSON has none inside).</param>
public sealed record EventBatch(string NodeId, string Service, long FirstSequence, int Count, byte[] Events)
{
    private const byte Separator = (byte)'\n';

    public static EventBatch Of(string nodeId, string service, long firstSequence, IReadOnlyCollection<LvsEvent> events) =>
        FromJson(nodeId, service, firstSequence, events.Select(e => (ReadOnlyMemory<byte>)EventJson.Serialize(e)).ToList());

    /// <summary>Joins already serialized events (the spool's records) without touching them.</summary>
    public static EventBatch FromJson(string nodeId, string service, long firstSequence, IReadOnlyList<ReadOnlyMemory<byte>> events)
    {
        var buffer = new byte[events.Sum(e => e.Length + 1)];
        var offset = 0;
        foreach (var e in events)
        {
            e.Span.CopyTo(buffer.AsSpan(offset));
            offset += e.Length;
            buffer[offset++] = Separator;
        }

        return new EventBatch(nodeId, service, firstSequence, events.Count, buffer);
    }

    /// <summary>The JSON of each event, in order.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> ReadJson()
    {
        var start = 0;
        while (start < Events.Length)
        {
            var end = Array.IndexOf(Events, Separator, start);
            if (end < 0)
            {
                end = Events.Length;
            }

            if (end > start)
            {
                yield return Events.AsMemory(start, end - start);
            }

            start = end + 1;
        }
    }

    /// <summary>The typed events, in order.</summary>
    public IEnumerable<LvsEvent> Read() => ReadJson().Select(json => EventJson.Deserialize(json.Span));
}
