namespace LvsEvents.Contracts;

/// <summary>
/// The message on the bus: events of one source (node + service spool), in order. Batching keeps the
/// broker efficient at tens of thousands of events per second; each event inside stays individually
/// recorded and replayable. A quiet service sends batches of one.
/// </summary>
/// <param name="NodeId">The node whose spool the events come from.</param>
/// <param name="Service">The service whose spool the events come from.</param>
/// <param name="FirstSequence">Spool sequence of the first event; consecutive after it.</param>
public sealed record EventBatch(string NodeId, string Service, long FirstSequence, IReadOnlyList<LvsEvent> Events);
