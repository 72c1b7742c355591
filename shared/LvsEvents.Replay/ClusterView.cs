using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LvsEvents.Contracts;

namespace LvsEvents.Replay;

/// <summary>
/// The state of the whole cluster as the events tell it: per VRRP instance the state of every node, its
/// priorities and VIPs (and so the owner); per virtual service its real servers with health, wanted weight and the
/// weight each director's kernel has; the alerts still open; per node its services and configuration.
/// A pure fold: <see cref="Apply"/> with the same events gives the same view. Probe results do not change it.
/// Each entity keeps the time of its last change, and an event older than that is not applied to it, so an
/// event recorded late (a director's spool catching up) cannot roll a newer state back.
/// </summary>
public sealed class ClusterView
{
    /// <summary>Time of the newest event applied.</summary>
    public DateTimeOffset? At { get; set; }

    public long EventsApplied { get; set; }

    public SortedDictionary<string, VrrpInstanceView> Instances { get; set; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, VirtualServiceView> VirtualServices { get; set; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, AlertView> OpenAlerts { get; set; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, NodeView> Nodes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Last raise or resolve per alert key, so that a late-recorded older one changes nothing.</summary>
    public SortedDictionary<string, DateTimeOffset> AlertChanges { get; set; } = new(StringComparer.Ordinal);

    public static readonly JsonSerializerOptions Json = CreateJson();

    /// <summary>Event types that change the view; everything else (probe results above all) is skipped by readers.</summary>
    public static readonly IReadOnlyList<string> ProjectedTypes = EventTypes.All.Keys
        .Where(t => t is not EventTypes.ProbeCompleted and not EventTypes.GratuitousArpSent and not EventTypes.SetWeightCommand
            and not EventTypes.DrainCommand and not EventTypes.RestoreCommand and not EventTypes.KernelStatisticsReported)
        .Order(StringComparer.Ordinal).ToArray();

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ClusterView FromJson(string json) => JsonSerializer.Deserialize<ClusterView>(json, Json) ?? new ClusterView();

    public ClusterView Clone() => FromJson(ToJson());

    public void Apply(LvsEvent e)
    {
        EventsApplied++;
        if (At is null || e.OccurredAt > At)
        {
            At = e.OccurredAt;
        }

        switch (e)
        {
            case VrrpStateChanged s:
                ApplyVrrpState(s);
                break;
            case VrrpPriorityChanged p:
            {
                var node = NodeOf(p.Instance, p.VirtualRouterId, p.NodeId);
                if (Fresh(ref node.PrioritySince, p.OccurredAt))
                {
                    node.EffectivePriority = p.NewPriority;
                }

                break;
            }
            case VipAcquired v:
            {
                var node = NodeOf(v.Instance, v.VirtualRouterId, v.NodeId);
                if (FreshIn(node.VipSince, v.Address, v.OccurredAt) && !node.Vips.Contains(v.Address))
                {
                    node.Vips.Add(v.Address);
                    node.Vips.Sort(StringComparer.Ordinal);
                }

                break;
            }
            case VipReleased v:
            {
                var node = NodeOf(v.Instance, v.VirtualRouterId, v.NodeId);
                if (FreshIn(node.VipSince, v.Address, v.OccurredAt))
                {
                    node.Vips.Remove(v.Address);
                }

                break;
            }
            case SplitBrainSuspected b:
            {
                var instance = InstanceOf(b.Instance, b.VirtualRouterId);
                instance.SplitBrainSince ??= b.OccurredAt;
                NodeOf(b.Instance, b.VirtualRouterId, b.NodeId).Lost = false;
                break;
            }
            case RealServerHealthChanged h:
            {
                var rs = RealServerOf(h.RealServer);
                if (Fresh(ref rs.HealthSince, h.OccurredAt))
                {
                    rs.Health = h.To;
                }

                break;
            }
            case RealServerWeightChanged w:
            {
                var rs = RealServerOf(w.RealServer);
                if (Fresh(ref rs.WeightSince, w.OccurredAt))
                {
                    rs.Weight = w.NewWeight;
                    rs.WeightCause = w.Cause;
                }

                break;
            }
            case VirtualServiceQuorumChanged q:
            {
                var vs = VirtualServiceOf(q.VirtualService);
                if (Fresh(ref vs.QuorumSince, q.OccurredAt))
                {
                    vs.QuorumUp = q.Up;
                    vs.LiveWeight = q.LiveWeight;
                    vs.Quorum = q.Quorum;
                    vs.SorryServerActive = q.SorryServerActive;
                }

                break;
            }
            case VirtualServiceHealthSnapshot snapshot:
                ApplyHealthSnapshot(snapshot);
                break;
            case KernelRuleApplied k:
                ApplyKernelRule(k);
                break;
            case AlertRaised a:
                if (FreshIn(AlertChanges, a.AlertKey, a.OccurredAt))
                {
                    OpenAlerts[a.AlertKey] = new AlertView { AlertKey = a.AlertKey, Rule = a.Rule, Severity = a.Severity, Subject = a.Subject, Message = a.Message, Node = a.NodeId, Since = a.OccurredAt };
                }

                break;
            case AlertResolved r:
                if (FreshIn(AlertChanges, r.AlertKey, r.OccurredAt))
                {
                    OpenAlerts.Remove(r.AlertKey);
                }

                break;
            case ConfigurationApplied c:
            {
                var node = NodeViewOf(c.NodeId);
                if (FreshIn(node.ConfigurationSince, c.Service, c.OccurredAt))
                {
                    node.ConfigurationHashes[c.Service] = c.Hash;
                }

                break;
            }
            case ServiceStarted started:
                SetService(started, running: true);
                break;
            case ServiceStopping stopping:
                SetService(stopping, running: false);
                break;
            case HealthCheckerStalled stalled:
                if (stalled.RealServer is not null)
                {
                    RealServerOf(stalled.RealServer).StalledAt = stalled.OccurredAt;
                }

                break;
            case KernelDriftCorrected drift:
                NodeViewOf(drift.NodeId).LastDriftCorrection = drift.OccurredAt;
                break;
        }
    }

    private void ApplyVrrpState(VrrpStateChanged s)
    {
        var instance = InstanceOf(s.Instance, s.VirtualRouterId);
        var node = NodeOf(s.Instance, s.VirtualRouterId, s.NodeId);
        if (!Fresh(ref node.StateSince, s.OccurredAt))
        {
            return;
        }

        node.State = s.To;
        node.Priority = s.Priority;
        node.EffectivePriority = s.EffectivePriority == 0 ? s.Priority : s.EffectivePriority;
        node.Reason = s.Reason;
        node.Lost = false;
        if (s.To != VrrpState.Master)
        {
            return;
        }

        // A node that took over because the master went silent: the old master is presumed gone (killed, cut off)
        // until it is heard from again. Its last own event still says Master.
        foreach (var (name, other) in instance.Nodes)
        {
            if (name != s.NodeId && other.State == VrrpState.Master && other.StateSince <= s.OccurredAt)
            {
                other.Lost = true;
            }
        }

        if (instance.Nodes.Values.Count(n => n.State == VrrpState.Master && !n.Lost) <= 1)
        {
            instance.SplitBrainSince = null;
        }
    }

    private void ApplyHealthSnapshot(VirtualServiceHealthSnapshot snapshot)
    {
        var vs = VirtualServiceOf(snapshot.VirtualService);
        if (Fresh(ref vs.QuorumSince, snapshot.OccurredAt))
        {
            vs.QuorumUp = snapshot.QuorumUp;
            vs.LiveWeight = snapshot.LiveWeight;
            vs.Quorum = snapshot.Quorum;
            vs.SorryServerActive = snapshot.SorryServerActive;
        }

        foreach (var entry in snapshot.RealServers)
        {
            var rs = vs.RealServers.TryGetValue(entry.Endpoint, out var known)
                ? known
                : vs.RealServers[entry.Endpoint] = new RealServerView { RealServer = $"{snapshot.VirtualService}->{entry.Endpoint}" };
            if (Fresh(ref rs.HealthSince, snapshot.OccurredAt))
            {
                rs.Health = entry.State;
            }

            if (Fresh(ref rs.WeightSince, snapshot.OccurredAt))
            {
                rs.Weight = entry.Weight;
            }
        }
    }

    private void ApplyKernelRule(KernelRuleApplied k)
    {
        var vs = VirtualServiceOf(k.VirtualService);
        if (k.Operation == KernelOperation.DeleteService)
        {
            foreach (var rs in vs.RealServers.Values)
            {
                rs.KernelWeights.Remove(k.NodeId);
            }

            return;
        }

        if (k.RealServer is null)
        {
            return;
        }

        var server = RealServerOf(k.RealServer);
        if (!FreshIn(server.KernelSince, k.NodeId, k.OccurredAt))
        {
            return;
        }

        if (k.Operation == KernelOperation.DeleteDestination || k.After is null)
        {
            server.KernelWeights.Remove(k.NodeId);
        }
        else if (KernelWeightOf(k.After) is { } weight)
        {
            server.KernelWeights[k.NodeId] = weight;
        }
    }

    /// <summary>The <c>-w N</c> of an <c>ipvsadm -S -n</c> destination line.</summary>
    public static int? KernelWeightOf(string rule)
    {
        var at = rule.IndexOf(" -w ", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var rest = rule.AsSpan(at + 4).TrimStart();
        var end = rest.IndexOf(' ');
        return int.TryParse(end < 0 ? rest : rest[..end], NumberStyles.Integer, CultureInfo.InvariantCulture, out var w) ? w : null;
    }

    private void SetService(LvsEvent e, bool running)
    {
        var services = NodeViewOf(e.NodeId).Services;
        if (!services.TryGetValue(e.Service, out var known) || known.Since <= e.OccurredAt)
        {
            services[e.Service] = new ServiceView { Running = running, Since = e.OccurredAt };
        }
    }

    /// <summary>Like <see cref="Fresh"/> for one key of a map of last-change times.</summary>
    private static bool FreshIn(IDictionary<string, DateTimeOffset> since, string key, DateTimeOffset at)
    {
        if (since.TryGetValue(key, out var known) && at < known)
        {
            return false;
        }

        since[key] = at;
        return true;
    }

    private static bool Fresh(ref DateTimeOffset? since, DateTimeOffset at)
    {
        if (since is { } known && at < known)
        {
            return false;
        }

        since = at;
        return true;
    }

    private VrrpInstanceView InstanceOf(string name, int vrid) =>
        Instances.TryGetValue(name, out var instance) ? instance : Instances[name] = new VrrpInstanceView { Instance = name, VirtualRouterId = vrid };

    private VrrpNodeView NodeOf(string instance, int vrid, string node)
    {
        var view = InstanceOf(instance, vrid);
        return view.Nodes.TryGetValue(node, out var known) ? known : view.Nodes[node] = new VrrpNodeView();
    }

    private NodeView NodeViewOf(string node) => Nodes.TryGetValue(node, out var known) ? known : Nodes[node] = new NodeView();

    private VirtualServiceView VirtualServiceOf(VirtualServiceRef service)
    {
        var key = service.ToString();
        return VirtualServices.TryGetValue(key, out var known) ? known : VirtualServices[key] = new VirtualServiceView { VirtualService = key };
    }

    private RealServerView RealServerOf(RealServerRef server)
    {
        var vs = VirtualServiceOf(server.VirtualService);
        var endpoint = EndpointOf(server);
        return vs.RealServers.TryGetValue(endpoint, out var known) ? known : vs.RealServers[endpoint] = new RealServerView { RealServer = server.ToString() };
    }

    public static string EndpointOf(RealServerRef server) =>
        server.Address.Contains(':') ? $"[{server.Address}]:{server.Port.ToString(CultureInfo.InvariantCulture)}" : $"{server.Address}:{server.Port.ToString(CultureInfo.InvariantCulture)}";

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = false };
        options.Converters.Add(new JsonStringEnumConverter());
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.IncludeFields = true;
        return options;
    }
}

public sealed class VrrpInstanceView
{
    public string Instance { get; set; } = "";
    public int VirtualRouterId { get; set; }
    public DateTimeOffset? SplitBrainSince { get; set; }
    public SortedDictionary<string, VrrpNodeView> Nodes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The nodes in Master state not presumed gone: one when all is well, none during a failover, two in a split brain.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Owners => Nodes.Where(n => n.Value.State == VrrpState.Master && !n.Value.Lost).Select(n => n.Key).ToList();
}

public sealed class VrrpNodeView
{
    public VrrpState State { get; set; } = VrrpState.Initialize;
    public int Priority { get; set; }
    public int EffectivePriority { get; set; }
    public VrrpTransitionReason? Reason { get; set; }
    /// <summary>Its last word was Master, but another node took over since: killed or cut off.</summary>
    public bool Lost { get; set; }
    public List<string> Vips { get; set; } = [];
    public SortedDictionary<string, DateTimeOffset> VipSince { get; set; } = new(StringComparer.Ordinal);
    public DateTimeOffset? StateSince;
    public DateTimeOffset? PrioritySince;
}

public sealed class VirtualServiceView
{
    public string VirtualService { get; set; } = "";
    public bool? QuorumUp { get; set; }
    public int? LiveWeight { get; set; }
    public int? Quorum { get; set; }
    public bool SorryServerActive { get; set; }
    public DateTimeOffset? QuorumSince;
    public SortedDictionary<string, RealServerView> RealServers { get; set; } = new(StringComparer.Ordinal);
}

public sealed class RealServerView
{
    public string RealServer { get; set; } = "";
    public HealthState Health { get; set; } = HealthState.Unknown;
    public int? Weight { get; set; }
    public WeightChangeCause? WeightCause { get; set; }
    /// <summary>The weight in each director's kernel table, by node.</summary>
    public SortedDictionary<string, int> KernelWeights { get; set; } = new(StringComparer.Ordinal);
    public DateTimeOffset? StalledAt { get; set; }
    public SortedDictionary<string, DateTimeOffset> KernelSince { get; set; } = new(StringComparer.Ordinal);
    public DateTimeOffset? HealthSince;
    public DateTimeOffset? WeightSince;
}

public sealed class AlertView
{
    public string AlertKey { get; set; } = "";
    public string Rule { get; set; } = "";
    public AlertSeverity Severity { get; set; }
    public string Subject { get; set; } = "";
    public string Message { get; set; } = "";
    public string Node { get; set; } = "";
    public DateTimeOffset Since { get; set; }
}

public sealed class NodeView
{
    public SortedDictionary<string, ServiceView> Services { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Hash of the configuration each service applied last.</summary>
    public SortedDictionary<string, string> ConfigurationHashes { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, DateTimeOffset> ConfigurationSince { get; set; } = new(StringComparer.Ordinal);
    public DateTimeOffset? LastDriftCorrection { get; set; }
}

public sealed class ServiceView
{
    public bool Running { get; set; }
    public DateTimeOffset Since { get; set; }
}
