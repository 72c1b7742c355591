using LvsEvents.Contracts;
using LvsEvents.Eventing.Spool;

namespace LvsEvents.Eventing;

/// <summary>Stamps events with who and when, and spools them.</summary>
public sealed class EventEmitter(DurableEventSpool spool, ServiceIdentity identity, TimeProvider clock) : IEventEmitter
{
    public async ValueTask<LvsEvent> EmitAsync(LvsEvent e, CancellationToken cancellationToken = default)
    {
        var stamped = Stamp(e);
        await spool.AppendAsync(EventJson.Serialize(stamped), cancellationToken).ConfigureAwait(false);
        return stamped;
    }

    public LvsEvent Stamp(LvsEvent e)
    {
        var now = e.OccurredAt == default ? clock.GetUtcNow() : e.OccurredAt;
        var id = e.EventId == Guid.Empty ? Guid.CreateVersion7(now) : e.EventId;
        return e with
        {
            EventId = id,
            OccurredAt = now.ToUniversalTime(),
            NodeId = string.IsNullOrEmpty(e.NodeId) ? identity.NodeId : e.NodeId,
            Service = string.IsNullOrEmpty(e.Service) ? identity.Service : e.Service,
            CorrelationId = e.CorrelationId == Guid.Empty ? id : e.CorrelationId,
        };
    }
}
