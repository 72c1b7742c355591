using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json.Serialization;

namespace LvsEvents.Contracts;

/// <summary>The stable names of every event type, as they appear on the wire and in the store.</summary>
public static class EventTypes
{
    public const string ServiceStarted = "service.started";
    public const string ServiceStopping = "service.stopping";
    public const string ServiceHeartbeat = "service.heartbeat";
    public const string VrrpStateChanged = "vrrp.state-changed";
    public const string VrrpPriorityChanged = "vrrp.priority-changed";
    public const string VipAcquired = "vrrp.vip-acquired";
    public const string VipReleased = "vrrp.vip-released";
    public const string GratuitousArpSent = "vrrp.gratuitous-arp-sent";
    public const string SplitBrainSuspected = "vrrp.split-brain-suspected";
    public const string ProbeCompleted = "health.probe-completed";
    public const string RealServerHealthChanged = "health.real-server-health-changed";
    public const string VirtualServiceQuorumChanged = "health.quorum-changed";
    public const string HealthCheckerStalled = "health.checker-stalled";
    public const string VirtualServiceHealthSnapshot = "health.snapshot";
    public const string RealServerWeightChanged = "weight.changed";
    public const string KernelRuleApplied = "kernel.rule-applied";
    public const string KernelDriftCorrected = "kernel.drift-corrected";
    public const string KernelStatisticsReported = "kernel.statistics";
    public const string ConfigurationApplied = "config.applied";
    public const string ConfigurationRejected = "config.rejected";
    public const string AlertRaised = "alert.raised";
    public const string AlertResolved = "alert.resolved";
    public const string SetWeightCommand = "command.set-weight";
    public const string DrainCommand = "command.drain";
    public const string RestoreCommand = "command.restore";
    public const string RecoveryDecision = "recovery.decision";
    public const string VrrpResignCommand = "command.vrrp-resign";
    public const string DrillCommand = "command.drill";
    public const string DrillStep = "drill.step";
    public const string CanaryStartCommand = "command.canary-start";
    public const string CanaryControlCommand = "command.canary-control";
    public const string CanaryStatus = "recovery.canary-status";

    private static readonly FrozenDictionary<Type, string> NamesByType = typeof(LvsEvent)
        .GetCustomAttributes<JsonDerivedTypeAttribute>()
        .ToFrozenDictionary(a => a.DerivedType, a => (string)a.TypeDiscriminator!);

    private static readonly FrozenDictionary<string, Type> TypesByName =
        NamesByType.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>Every concrete event type with its wire name.</summary>
    public static IReadOnlyDictionary<string, Type> All => TypesByName;

    public static string NameOf(Type type) =>
        NamesByType.TryGetValue(type, out var name)
            ? name
            : throw new ArgumentException($"{type.FullName} is not a registered event type: add a [JsonDerivedType] for it on LvsEvent.", nameof(type));

    public static bool TryGetType(string name, out Type type) => TypesByName.TryGetValue(name, out type!);
}
