using LvsEvents.Contracts;

namespace LvsEvents.Eventing;

/// <summary>Fills in what an event leaves unset: a UUIDv7 id, the time, node, service, correlation.</summary>
public sealed class EventStamper(ServiceIdentity identity, TimeProvider clock)
{
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
