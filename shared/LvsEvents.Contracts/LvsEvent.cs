using System.Text.Json.Serialization;

namespace LvsEvents.Contracts;

/// <summary>
/// Everything that happens in a director is one of these. The metadata is stamped by the emitting service
/// (see LvsEvents.Eventing.EventEmitter): a sortable UUIDv7 id, UTC time, node, service, correlation id,
/// and the schema version of the concrete type. The type discriminator <c>eventType</c> is stable on the
/// wire and in the store; renaming a CLR type never changes it.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "eventType", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(ServiceStarted), EventTypes.ServiceStarted)]
[JsonDerivedType(typeof(ServiceStopping), EventTypes.ServiceStopping)]
[JsonDerivedType(typeof(ServiceHeartbeat), EventTypes.ServiceHeartbeat)]
[JsonDerivedType(typeof(VrrpStateChanged), EventTypes.VrrpStateChanged)]
[JsonDerivedType(typeof(VrrpPriorityChanged), EventTypes.VrrpPriorityChanged)]
[JsonDerivedType(typeof(VipAcquired), EventTypes.VipAcquired)]
[JsonDerivedType(typeof(VipReleased), EventTypes.VipReleased)]
[JsonDerivedType(typeof(GratuitousArpSent), EventTypes.GratuitousArpSent)]
[JsonDerivedType(typeof(SplitBrainSuspected), EventTypes.SplitBrainSuspected)]
[JsonDerivedType(typeof(ProbeCompleted), EventTypes.ProbeCompleted)]
[JsonDerivedType(typeof(RealServerHealthChanged), EventTypes.RealServerHealthChanged)]
[JsonDerivedType(typeof(VirtualServiceQuorumChanged), EventTypes.VirtualServiceQuorumChanged)]
[JsonDerivedType(typeof(HealthCheckerStalled), EventTypes.HealthCheckerStalled)]
[JsonDerivedType(typeof(VirtualServiceHealthSnapshot), EventTypes.VirtualServiceHealthSnapshot)]
[JsonDerivedType(typeof(RealServerWeightChanged), EventTypes.RealServerWeightChanged)]
[JsonDerivedType(typeof(KernelRuleApplied), EventTypes.KernelRuleApplied)]
[JsonDerivedType(typeof(KernelDriftCorrected), EventTypes.KernelDriftCorrected)]
[JsonDerivedType(typeof(KernelStatisticsReported), EventTypes.KernelStatisticsReported)]
[JsonDerivedType(typeof(ConfigurationApplied), EventTypes.ConfigurationApplied)]
[JsonDerivedType(typeof(ConfigurationRejected), EventTypes.ConfigurationRejected)]
[JsonDerivedType(typeof(AlertRaised), EventTypes.AlertRaised)]
[JsonDerivedType(typeof(AlertResolved), EventTypes.AlertResolved)]
[JsonDerivedType(typeof(SetWeightCommand), EventTypes.SetWeightCommand)]
[JsonDerivedType(typeof(DrainCommand), EventTypes.DrainCommand)]
[JsonDerivedType(typeof(RestoreCommand), EventTypes.RestoreCommand)]
[JsonDerivedType(typeof(RecoveryDecision), EventTypes.RecoveryDecision)]
[JsonDerivedType(typeof(VrrpResignCommand), EventTypes.VrrpResignCommand)]
[JsonDerivedType(typeof(DrillCommand), EventTypes.DrillCommand)]
[JsonDerivedType(typeof(DrillStep), EventTypes.DrillStep)]
[JsonDerivedType(typeof(CanaryStartCommand), EventTypes.CanaryStartCommand)]
[JsonDerivedType(typeof(CanaryControlCommand), EventTypes.CanaryControlCommand)]
[JsonDerivedType(typeof(CanaryStatus), EventTypes.CanaryStatus)]
public abstract record LvsEvent
{
    /// <summary>Unique and time-sortable (UUIDv7). The store keeps one event per id.</summary>
    public Guid EventId { get; init; }

    /// <summary>When it happened, UTC.</summary>
    public DateTimeOffset OccurredAt { get; init; }

    /// <summary>The director it happened on (the product's node id, by default keepalived's router_id).</summary>
    public string NodeId { get; init; } = "";

    /// <summary>The emitting service: vrrp, health, ipvs-writer, monitor, lvsctl, recovery.</summary>
    public string Service { get; init; } = "";

    /// <summary>Ties an event to what caused it; a cause's own event id when there is one.</summary>
    public Guid CorrelationId { get; init; }

    /// <summary>The event that directly caused this one, where there is one.</summary>
    public Guid? CausationId { get; init; }

    /// <summary>Version of this type's schema; bumped on an incompatible change.</summary>
    public int SchemaVersion { get; init; } = 1;

    /// <summary>The stream this event is recorded in (see <see cref="StreamKeys"/>).</summary>
    [JsonIgnore]
    public abstract string StreamKey { get; }

    /// <summary>The stable wire name of the concrete type (e.g. <c>vrrp.state-changed</c>).</summary>
    [JsonIgnore]
    public string EventType => EventTypes.NameOf(GetType());
}
