using LvsEvents.Contracts;

namespace LvsEvents.Eventing;

/// <summary>The one way a service emits an event.</summary>
public interface IEventEmitter
{
    /// <summary>
    /// Stamps the event's metadata where it is unset (id, time, node, service, correlation) and appends it
    /// to the durable spool. Completes once the event is on disk; delivery to the bus happens after, in
    /// order, and survives broker outages and restarts. Returns the stamped event.
    /// </summary>
    ValueTask<LvsEvent> EmitAsync(LvsEvent e, CancellationToken cancellationToken = default);
}
