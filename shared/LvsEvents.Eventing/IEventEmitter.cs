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

    /// <summary>
    /// Emits <paramref name="events"/> in order, each as its own event (stamped, one spool record each), and completes
    /// once all are on disk. An emitter that can spools them as one group (one write, one fsync, one completion).
    /// </summary>
    async ValueTask EmitManyAsync(IReadOnlyList<LvsEvent> events, CancellationToken cancellationToken = default)
    {
        var pending = new ValueTask<LvsEvent>[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            pending[i] = EmitAsync(events[i], cancellationToken);
        }

        foreach (var emitted in pending)
        {
            await emitted.ConfigureAwait(false);
        }
    }
}
