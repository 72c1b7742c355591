using System.Text.Json;

namespace LvsEvents.Contracts;

/// <summary>
/// The message on the bus: events of one source (node + service spool), in order. Batching keeps the
/// broker efficient at tens of thousands of events per second; each event inside stays individually
/// recorded and replayable. A quiet service sends batches of one. The events travel as their JSON
/// (<see cref="EventJson"/>) exactly as spooled, so no hop re-encodes them; <see cref="Read"/> gives the
/// typed events.
/// </summary>
/// <param name="NodeId">The node whose spool the events come from.</param>
/// <param name="Service">The service whose spool the events come from.</param>
/// <param name="FirstSequence">Spool sequence of the first event; consecutive after it.</param>
public sealed record EventBatch(string NodeId, string Service, long FirstSequence, IReadOnlyList<JsonElement> Events)
{
    public static EventBatch Of(string nodeId, string service, long firstSequence, IEnumerable<LvsEvent> events) =>
        new(nodeId, service, firstSequence, events.Select(e => JsonSerializer.SerializeToElement(e, EventJson.Options)).ToList());

    /// <summary>The typed events, in order.</summary>
    public IEnumerable<LvsEvent> Read() => Events.Select(e => e.Deserialize<LvsEvent>(EventJson.Options) ?? throw new JsonException("null event in batch"));
}
