using System.Globalization;
using System.Text;
using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Replay;

namespace LvsEvents.Lvsctl.Commands;

/// <summary>What <c>lvsctl status</c> prints: pure functions of the store's view, the heartbeats and what the bus carried.</summary>
public static class ClusterStatus
{
    public static string Text(ClusterView view, string source, DateTimeOffset now, TimeSpan heartbeatWindow, IReadOnlyList<LvsEvent> heartbeats, IReadOnlyList<LvsEvent>? heard, TimeSpan listen, string? busProblem)
    {
        var s = new StringBuilder();
        s.AppendLine($"FROM THE EVENT STORE ({source})");
        s.Append(ReportText.View(view, now));
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"SERVICES (their last heartbeat, start or stop in the last {heartbeatWindow.TotalMinutes:0} minutes)");
        foreach (var last in Latest(heartbeats))
        {
            var what = last switch
            {
                ServiceHeartbeat h => $"alive, spool {h.SpoolDepth}, up {ReportText.Duration(h.Uptime)}",
                ServiceStopping => "STOPPED",
                _ => "started",
            };
            s.AppendLine(CultureInfo.InvariantCulture, $"  {last.NodeId,-16} {last.Service,-18} {what,-40} {ReportText.Time(last.OccurredAt)}");
        }

        if (heartbeats.Count == 0)
        {
            s.AppendLine("  (none: is the monitor recording?)");
        }

        s.AppendLine();
        if (heard is null)
        {
            s.AppendLine($"LIVE FROM THE BUS: {busProblem}");
            return s.ToString();
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"LIVE FROM THE BUS ({listen.TotalSeconds:0.#} s, {heard.Count} events)");
        foreach (var k in heard.OfType<KernelStatisticsReported>().GroupBy(k => k.NodeId).Select(g => g.Last()).OrderBy(k => k.NodeId, StringComparer.Ordinal))
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  kernel on {k.NodeId} ({k.Backend}): {k.TotalActiveConnections?.ToString(CultureInfo.InvariantCulture) ?? "?"} active connections");
            foreach (var t in k.Services)
            {
                s.AppendLine(CultureInfo.InvariantCulture,
                    $"    {t.VirtualService,-30} active {Number(t.ActiveConnections),6}  inactive {Number(t.InactiveConnections),6}  conn/s {Rate(t.ConnectionsPerSecond),8}  pkt/s in {Rate(t.InPacketsPerSecond),8}");
            }
        }

        var probes = heard.OfType<ProbeCompleted>().GroupBy(p => (p.NodeId, Server: p.RealServer.ToString())).OrderBy(g => g.Key.Server, StringComparer.Ordinal).ThenBy(g => g.Key.NodeId, StringComparer.Ordinal).ToList();
        if (probes.Count > 0)
        {
            s.AppendLine("  probes (node, real server: ok/all, last latency)");
            foreach (var g in probes)
            {
                var last = g.Last();
                s.AppendLine(CultureInfo.InvariantCulture,
                    $"    {g.Key.NodeId,-16} {g.Key.Server,-40} {g.Count(p => p.Success)}/{g.Count()}  {last.Latency.TotalMilliseconds:0.0} ms{(last.Success ? "" : "  " + last.Error)}");
            }
        }

        foreach (var e in heard.Where(e => e is VrrpStateChanged or RealServerHealthChanged or RealServerWeightChanged or AlertRaised or AlertResolved))
        {
            s.AppendLine($"  {EventsCommand.Format(e)}");
        }

        return s.ToString();
    }

    public static string Json(ClusterView view, IReadOnlyList<LvsEvent> heartbeats, IReadOnlyList<LvsEvent>? heard, string? busProblem)
    {
        var services = Latest(heartbeats).Select(e => new
        {
            node = e.NodeId,
            service = e.Service,
            state = e switch { ServiceHeartbeat => "alive", ServiceStopping => "stopped", _ => "started" },
            spoolDepth = (e as ServiceHeartbeat)?.SpoolDepth,
            at = e.OccurredAt,
        });
        var kernel = heard?.OfType<KernelStatisticsReported>().GroupBy(k => k.NodeId).Select(g => g.Last());
        var document = new
        {
            view = JsonDocument.Parse(view.ToJson()).RootElement,
            services,
            bus = heard is null ? null : new { events = heard.Count, kernel },
            busProblem,
        };
        return JsonSerializer.Serialize(document, EventJson.Options);
    }

    /// <summary>The newest lifecycle event per node and service.</summary>
    private static IEnumerable<LvsEvent> Latest(IReadOnlyList<LvsEvent> lifecycle) => lifecycle
        .GroupBy(e => (e.NodeId, e.Service))
        .Select(g => g.MaxBy(e => e.OccurredAt)!)
        .OrderBy(e => e.NodeId, StringComparer.Ordinal)
        .ThenBy(e => e.Service, StringComparer.Ordinal);

    private static string Number(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "?";

    private static string Rate(double? r) => r?.ToString("0.0", CultureInfo.InvariantCulture) ?? "?";
}
