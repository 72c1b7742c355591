using LvsEvents.Contracts;
using LvsEvents.Influx;

namespace LvsEvents.Monitor.Metrics;

/// <summary>
/// One InfluxDB point per event: the measurement says what kind of thing it is about, tags say which
/// (node, service, instance, virtual service, real server), fields carry the values to chart. The event
/// id stays in the store: a unique string per point would cost InfluxDB more than the point itself, and
/// time plus tags find the event (lvsctl events) without it.
/// </summary>
public static class EventPoint
{
    public static InfluxPoint From(LvsEvent e)
    {
        var tags = new Dictionary<string, string?>
        {
            ["node"] = e.NodeId,
            ["service"] = e.Service,
            ["event_type"] = e.EventType,
        };
        var fields = new Dictionary<string, InfluxFieldValue>();
        var measurement = Describe(e, tags, fields);
        return new InfluxPoint(measurement, tags, fields, e.OccurredAt);
    }

    private static string Describe(LvsEvent e, Dictionary<string, string?> tags, Dictionary<string, InfluxFieldValue> fields)
    {
        switch (e)
        {
            case ServiceStarted s:
                fields["running"] = true;
                fields["version"] = s.Version;
                return "service_lifecycle";
            case ServiceHeartbeat s:
                fields["depth"] = s.SpoolDepth;
                fields["uptime_s"] = s.Uptime.TotalSeconds;
                return "spool";
            case ServiceStopping s:
                fields["running"] = false;
                fields["reason"] = s.Reason;
                return "service_lifecycle";
            case VrrpStateChanged s:
                Instance(tags, s.Instance, s.VirtualRouterId);
                fields["from"] = s.From.ToString();
                fields["to"] = s.To.ToString();
                fields["state"] = (int)s.To;
                fields["reason"] = s.Reason.ToString();
                fields["priority"] = s.Priority;
                fields["effective_priority"] = s.EffectivePriority;
                // A failover's length as the new master saw it: from the old master's last advert to taking over.
                if (s.To == VrrpState.Master && s.Reason is VrrpTransitionReason.MasterDownTimerExpired or VrrpTransitionReason.PriorityZeroReceived
                    && s.Evidence?.LastAdvertAt is { } lastAdvert)
                {
                    fields["failover_ms"] = Math.Max(0, (s.OccurredAt - lastAdvert).TotalMilliseconds);
                }

                return "vrrp_state";
            case VrrpPriorityChanged s:
                Instance(tags, s.Instance, s.VirtualRouterId);
                fields["old_priority"] = s.OldPriority;
                fields["new_priority"] = s.NewPriority;
                fields["cause"] = s.Cause;
                return "vrrp_priority";
            case VipAcquired s:
                Instance(tags, s.Instance, s.VirtualRouterId);
                tags["address"] = s.Address;
                fields["held"] = true;
                fields["interface"] = s.Interface;
                return "vrrp_vip";
            case VipReleased s:
                Instance(tags, s.Instance, s.VirtualRouterId);
                tags["address"] = s.Address;
                fields["held"] = false;
                fields["interface"] = s.Interface;
                fields["reason"] = s.Reason;
                return "vrrp_vip";
            case GratuitousArpSent s:
                tags["instance"] = s.Instance;
                fields["count"] = s.Count;
                fields["reason"] = s.Reason;
                return "vrrp_garp";
            case SplitBrainSuspected s:
                Instance(tags, s.Instance, s.VirtualRouterId);
                fields["peer"] = s.PeerAddress;
                fields["peer_priority"] = s.PeerPriority;
                fields["local_priority"] = s.LocalPriority;
                fields["intervals"] = s.IntervalsObserved;
                return "vrrp_split_brain";
            case ProbeCompleted s:
                RealServer(tags, s.RealServer);
                tags["checker"] = s.Checker;
                fields["success"] = s.Success;
                fields["latency_ms"] = s.Latency.TotalMilliseconds;
                if (!s.Success)
                {
                    fields["error"] = s.Error.ToString();
                }

                return "probe";
            case RealServerHealthChanged s:
                RealServer(tags, s.RealServer);
                fields["up"] = s.To == HealthState.Up;
                fields["from"] = s.From.ToString();
                fields["to"] = s.To.ToString();
                fields["checker"] = s.Checker;
                return "real_server_health";
            case VirtualServiceQuorumChanged s:
                tags["virtual_service"] = s.VirtualService.ToString();
                fields["up"] = s.Up;
                fields["live_weight"] = s.LiveWeight;
                fields["quorum"] = s.Quorum;
                fields["sorry_server"] = s.SorryServerActive;
                return "virtual_service_quorum";
            case HealthCheckerStalled s:
                if (s.RealServer is not null)
                {
                    RealServer(tags, s.RealServer);
                }

                tags["checker"] = s.Checker;
                fields["silent_s"] = s.SilentFor.TotalSeconds;
                fields["expected_s"] = s.Expected.TotalSeconds;
                return "checker_stalled";
            case RealServerWeightChanged s:
                RealServer(tags, s.RealServer);
                fields["old_weight"] = s.OldWeight;
                fields["weight"] = s.NewWeight;
                fields["cause"] = s.Cause.ToString();
                return "real_server_weight";
            case KernelRuleApplied s:
                tags["virtual_service"] = s.VirtualService.ToString();
                tags["backend"] = s.Backend;
                fields["operation"] = s.Operation.ToString();
                fields["real_server"] = s.RealServer?.ToString() ?? "";
                return "kernel_rule";
            case KernelDriftCorrected s:
                tags["backend"] = s.Backend;
                fields["differences"] = s.Differences.Count;
                return "kernel_drift";
            case ConfigurationApplied s:
                fields["applied"] = true;
                fields["changes"] = s.Changes.Count;
                fields["file"] = s.File;
                return "configuration";
            case ConfigurationRejected s:
                fields["applied"] = false;
                fields["errors"] = s.Errors.Count;
                fields["file"] = s.File;
                return "configuration";
            case AlertRaised s:
                tags["rule"] = s.Rule;
                fields["firing"] = true;
                fields["subject"] = s.Subject;
                fields["severity"] = s.Severity.ToString();
                return "alert";
            case AlertResolved s:
                tags["rule"] = s.Rule;
                fields["firing"] = false;
                fields["subject"] = s.Subject;
                fields["duration_s"] = s.Duration.TotalSeconds;
                return "alert";
            case SetWeightCommand s:
                RealServer(tags, s.RealServer);
                fields["weight"] = s.Weight;
                fields["requested_by"] = s.RequestedBy;
                return "command";
            case DrainCommand s:
                RealServer(tags, s.RealServer);
                fields["timeout_s"] = s.Timeout.TotalSeconds;
                fields["requested_by"] = s.RequestedBy;
                return "command";
            case RestoreCommand s:
                RealServer(tags, s.RealServer);
                fields["requested_by"] = s.RequestedBy;
                return "command";
            case RecoveryDecision s:
                if (s.RealServer is not null)
                {
                    RealServer(tags, s.RealServer);
                }

                tags["policy"] = s.Policy;
                fields["action"] = s.Action.ToString();
                fields["subject"] = s.Subject;
                fields["weight"] = s.Weight ?? -1;
                return "recovery_decision";
            case VirtualServiceHealthSnapshot s:
                tags["virtual_service"] = s.VirtualService.ToString();
                fields["quorum_up"] = s.QuorumUp;
                fields["live_weight"] = s.LiveWeight;
                fields["real_servers"] = s.RealServers.Count;
                fields["real_servers_up"] = s.RealServers.Count(r => r.State == HealthState.Up);
                return "virtual_service_health";
            default:
                // A type this mapping does not know yet still counts (InfluxDB needs a field).
                fields["count"] = 1;
                return "event";
        }
    }

    private static void Instance(Dictionary<string, string?> tags, string instance, int vrid)
    {
        tags["instance"] = instance;
        tags["vrid"] = vrid.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void RealServer(Dictionary<string, string?> tags, RealServerRef server)
    {
        tags["virtual_service"] = server.VirtualService.ToString();
        tags["real_server"] = $"{server.Address}:{server.Port}";
    }
}
