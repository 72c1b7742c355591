using System.Globalization;
using System.Text;
using LvsEvents.Contracts;

namespace LvsEvents.Replay;

/// <summary>Terminal renderings: the cluster view as tables, the postmortem as sections.</summary>
public static class ReportText
{
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan d) =>
        d.TotalHours >= 1 ? $"{(int)d.TotalHours}h{d.Minutes:00}m{d.Seconds:00}s"
        : d.TotalMinutes >= 1 ? $"{(int)d.TotalMinutes}m{d.Seconds:00}s"
        : $"{d.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)}s";

    public static string View(ClusterView view, DateTimeOffset asOf)
    {
        var s = new StringBuilder();
        s.AppendLine($"cluster state at {Time(asOf)} (last event {(view.At is { } at ? Time(at) : "none")}, {view.EventsApplied} events)");
        s.AppendLine();
        s.AppendLine("VRRP INSTANCE         OWNER            NODE             STATE      PRIO  EFF   VIPS");
        foreach (var (name, instance) in view.Instances)
        {
            var owners = instance.Owners;
            var owner = owners.Count == 0 ? "(none)" : string.Join(",", owners) + (owners.Count > 1 ? " SPLIT-BRAIN" : "");
            foreach (var (node, state) in instance.Nodes)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"{name,-21} {owner,-16} {node,-16} {(state.Lost ? "Lost?" : state.State.ToString()),-10} {state.Priority,4}  {state.EffectivePriority,4}  {string.Join(" ", state.Vips)}");
                owner = "";
            }
        }

        s.AppendLine();
        s.AppendLine("VIRTUAL SERVICE / REAL SERVER                      HEALTH   WEIGHT  CAUSE     KERNEL (node=weight)");
        foreach (var vs in view.VirtualServices.Values)
        {
            var quorum = vs.QuorumUp is { } up ? (up ? "quorum up" : "QUORUM DOWN") + $", live weight {vs.LiveWeight}/{vs.Quorum}" : "";
            s.AppendLine($"{vs.VirtualService}  {quorum}{(vs.SorryServerActive ? ", sorry server" : "")}");
            foreach (var (endpoint, rs) in vs.RealServers)
            {
                var kernel = string.Join(" ", rs.KernelWeights.Select(k => $"{k.Key}={k.Value}"));
                s.AppendLine(CultureInfo.InvariantCulture, $"  -> {endpoint,-46} {rs.Health,-8} {rs.Weight?.ToString(CultureInfo.InvariantCulture) ?? "?",6}  {rs.WeightCause?.ToString() ?? "",-9} {kernel}");
            }
        }

        s.AppendLine();
        s.AppendLine($"OPEN ALERTS ({view.OpenAlerts.Count})");
        foreach (var alert in view.OpenAlerts.Values)
        {
            s.AppendLine($"  {Time(alert.Since)}  {alert.Severity,-8} {alert.Rule}  {alert.Subject}  {alert.Message}");
        }

        return s.ToString();
    }

    public static string Postmortem(PostmortemReport r)
    {
        var s = new StringBuilder();
        s.AppendLine($"POSTMORTEM {Time(r.From)} .. {Time(r.To)} ({Duration(r.To - r.From)}), {r.EventsRead} events besides probe results");
        s.AppendLine();
        s.AppendLine($"Reduced capacity (a real server down or at weight 0): {Duration(r.ReducedCapacity)}");
        foreach (var (instance, time) in r.WithoutMaster)
        {
            s.AppendLine($"Without a master, {instance}: {Duration(time)}");
        }

        s.AppendLine();
        s.AppendLine($"FAILOVERS ({r.Failovers.Count(f => !f.Election)}; elections {r.Failovers.Count(f => f.Election)})");
        foreach (var f in r.Failovers)
        {
            var gap = f.Gap is { } g ? $"{Duration(g)} from {f.GapStartsAt} ({Time(f.GapStart)}) to VIP on {f.NewMaster} ({Time(f.VipAt!.Value)})" : "no VIP acquired in the window";
            s.AppendLine($"  {Time(f.At)}  {f.Instance}: {f.OldMaster ?? "(none)"} -> {f.NewMaster}  {f.Reason}{(f.Election ? " (election)" : "")}  gap {gap}");
        }

        foreach (var b in r.SplitBrains)
        {
            s.AppendLine($"  {Time(b.At)}  {b.Instance}: SPLIT BRAIN suspected by {b.Node}, peer {b.Peer}");
        }

        s.AppendLine();
        s.AppendLine($"REAL-SERVER OUTAGES ({r.Outages.Count})");
        foreach (var o in r.Outages)
        {
            var detected = o.FirstFailedProbeAt is { } p ? $"first failed probe {Time(p)}, declared down {Duration(o.DownAt - p)} later" : $"declared down {Time(o.DownAt)}";
            s.AppendLine($"  {o.RealServer}: down {Time(o.DownAt)}{(o.BeganBeforeWindow ? " (before the window)" : "")} for {Duration(o.Duration)}{(o.UpAt is null ? " (still down at the end)" : $", up {Time(o.UpAt.Value)}")}");
            s.AppendLine($"      {detected}; checker {o.Checker ?? "?"}; {o.Reason}");
            foreach (var w in o.WeightChanges)
            {
                s.AppendLine($"      weight {w.OldWeight} -> {w.NewWeight} at {Time(w.At)} by {Who(w)}");
            }
        }

        s.AppendLine();
        s.AppendLine($"WEIGHT CHANGES ({r.WeightChanges.Count})");
        foreach (var w in r.WeightChanges)
        {
            s.AppendLine($"  {Time(w.At)}  {w.RealServer}: {w.OldWeight} -> {w.NewWeight} by {Who(w)}{(w.Detail is null ? "" : $" ({w.Detail})")}");
        }

        s.AppendLine();
        s.AppendLine($"KERNEL RULE CHANGES ({r.KernelChanges.Count}) AND DRIFT CORRECTIONS ({r.DriftCorrections.Count})");
        foreach (var k in r.KernelChanges.Take(200))
        {
            s.AppendLine($"  {Time(k.At)}  {k.Node} {k.Operation} {k.RealServer ?? k.VirtualService}: {k.Before ?? "(none)"} => {k.After ?? "(deleted)"}");
        }

        if (r.KernelChanges.Count > 200)
        {
            s.AppendLine($"  ... {r.KernelChanges.Count - 200} more");
        }

        foreach (var d in r.DriftCorrections)
        {
            s.AppendLine($"  {Time(d.At)}  {d.Node} drift corrected: {string.Join("; ", d.Differences)}");
        }

        s.AppendLine();
        s.AppendLine($"DECISIONS AND COMMANDS ({r.Decisions.Count})");
        foreach (var d in r.Decisions)
        {
            s.AppendLine($"  {Time(d.At)}  {d.Node}/{d.Service} {d.Kind} by {d.Who}: {d.What}{(d.Why is null ? "" : $" — {d.Why}")}  [correlation {d.CorrelationId}]");
        }

        s.AppendLine();
        s.AppendLine($"ALERTS ({r.Alerts.Count})");
        foreach (var a in r.Alerts)
        {
            s.AppendLine($"  {Time(a.RaisedAt)}  {a.Severity} {a.Rule} {a.Subject}: {(a.ResolvedAt is { } at ? $"resolved {Time(at)} after {Duration(a.Duration)}" : $"open for {Duration(a.Duration)}")}  {a.Message}");
        }

        s.AppendLine();
        s.AppendLine($"CONFIGURATION ({r.ConfigChanges.Count})");
        foreach (var c in r.ConfigChanges)
        {
            s.AppendLine($"  {Time(c.At)}  {c.Node}/{c.Service} {(c.Applied ? "applied" : "REJECTED")} {c.File}{(c.Hash is null ? "" : " " + c.Hash[..Math.Min(12, c.Hash.Length)])}");
            foreach (var change in c.Changes)
            {
                s.AppendLine($"      {change.Change} {change.ObjectType} {change.Key}{string.Concat(change.Fields.Select(f => $"  {f.Field}: {f.Old ?? "-"} -> {f.New ?? "-"}"))}");
            }

            foreach (var error in c.Errors)
            {
                s.AppendLine($"      {error}");
            }
        }

        return s.ToString();
    }

    public static string Who(WeightChange w) => w.Cause switch
    {
        WeightChangeCause.Operator => $"operator{(w.RequestedBy is null ? "" : " " + w.RequestedBy)}",
        WeightChangeCause.Recovery => "recovery",
        WeightChangeCause.Health => "health",
        _ => "configuration",
    } + $" on {w.Node}";
}
