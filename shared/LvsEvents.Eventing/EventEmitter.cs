using LvsEvents.Contracts;
using LvsEvents.Eventing.Spool;

namespace LvsEvents.Eventing;

/// <summary>Stamps events with who and when, and spools them.</summary>
public sealed class EventEmitter(DurableEventSpool spool, ServiceIdentity identity, TimeProvider clock) : IEventEmitter
{
    private readonly EventStamper _stamper = new(identity, clock);

    public async ValueTask<LvsEvent> EmitAsync(LvsEvent e, CancellationToken cancellationToken = default)
    {
        var stamped = _stamper.Stamp(e);
        await spool.AppendAsync(EventJson.Serialize(stamped), cancellationToken).ConfigureAwait(false);
        return stamped;
    }
}
