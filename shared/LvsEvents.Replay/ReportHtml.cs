using System.Globalization;
using System.Net;
using System.Text;

namespace LvsEvents.Replay;

/// <summary>
/// The postmortem as one self-contained HTML file: inline CSS and an inline SVG chart (a lane per node and VRRP
/// instance, a lane per real server, markers for failovers, alerts, configuration and drift), then the tables.
/// No scripts, fonts or images from anywhere.
/// </summary>
public static class ReportHtml
{
    private const int LabelWidth = 330;
    private const int ChartWidth = 900;
    private const int LaneHeight = 20;
    private const int Top = 40;

    private static readonly Dictionary<string, string> Colors = new(StringComparer.Ordinal)
    {
        ["Master"] = "#2e9d4f", ["Backup"] = "#7a93b8", ["Fault"] = "#d64541", ["Lost"] = "#f39c12", ["Initialize"] = "#c8c8c8", ["Stopped"] = "#9e9e9e",
        ["Up"] = "#2e9d4f", ["Down"] = "#d64541", ["Drained"] = "#f1c40f", ["Unknown"] = "#c8c8c8",
    };

    private static readonly Dictionary<string, string> MarkerColors = new(StringComparer.Ordinal)
    {
        ["failover"] = "#8e44ad", ["alert"] = "#d64541", ["resolved"] = "#2e9d4f", ["config"] = "#2c6fbb", ["drift"] = "#e67e22", ["split-brain"] = "#000000",
    };

    public static string Render(PostmortemReport r)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Postmortem ")
         .Append(E(ReportText.Time(r.From))).Append(" .. ").Append(E(ReportText.Time(r.To))).Append("</title><style>")
         .Append("body{font-family:sans-serif;margin:20px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:24px}")
         .Append("table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}")
         .Append("th{background:#f0f0f0}.num{text-align:right}.legend span{display:inline-block;margin-right:12px;font-size:12px}")
         .Append(".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}svg text{font-size:11px;font-family:sans-serif}")
         .Append("</style></head><body>");
        h.Append("<h1>Postmortem ").Append(E(ReportText.Time(r.From))).Append(" .. ").Append(E(ReportText.Time(r.To))).Append("</h1>");
        h.Append("<p id=\"summary\">").Append(r.Failovers.Count(f => !f.Election)).Append(" failovers, ").Append(r.Outages.Count).Append(" real-server outages, ")
         .Append(r.Alerts.Count).Append(" alerts, ").Append(r.ConfigChanges.Count).Append(" configuration changes, ")
         .Append(r.KernelChanges.Count).Append(" kernel rule changes. Reduced capacity for ").Append(E(ReportText.Duration(r.ReducedCapacity))).Append('.');
        foreach (var (instance, time) in r.WithoutMaster)
        {
            h.Append(" No master for ").Append(E(instance)).Append(": ").Append(E(ReportText.Duration(time))).Append('.');
        }

        h.Append("</p>");
        Chart(h, r);
        h.Append("<div class=\"legend\">");
        foreach (var (name, color) in Colors.Concat(MarkerColors))
        {
            h.Append("<span><i class=\"sw\" style=\"background:").Append(color).Append("\"></i>").Append(E(name)).Append("</span>");
        }

        h.Append("</div>");
        Table(h, "Failovers", ["time", "instance", "from", "to", "reason", "gap", "gap measured from"], r.Failovers.Select(f => new[]
        {
            ReportText.Time(f.At), f.Instance, f.OldMaster ?? "(none)", f.NewMaster, f.Reason + (f.Election ? " (election)" : ""),
            f.Gap is { } g ? ReportText.Duration(g) : "no VIP", $"{f.GapStartsAt} {ReportText.Time(f.GapStart)}",
        }));
        Table(h, "Real-server outages", ["real server", "down", "first failed probe", "up", "duration", "checker", "weight changes"], r.Outages.Select(o => new[]
        {
            o.RealServer, ReportText.Time(o.DownAt) + (o.BeganBeforeWindow ? " (before window)" : ""), o.FirstFailedProbeAt is { } p ? ReportText.Time(p) : "",
            o.UpAt is { } up ? ReportText.Time(up) : "still down", ReportText.Duration(o.Duration), o.Checker ?? "",
            string.Join("; ", o.WeightChanges.Select(w => $"{w.OldWeight}→{w.NewWeight} by {ReportText.Who(w)}")),
        }));
        Table(h, "Weight changes", ["time", "real server", "old", "new", "by", "detail"], r.WeightChanges.Select(w => new[]
        {
            ReportText.Time(w.At), w.RealServer, w.OldWeight.ToString(CultureInfo.InvariantCulture), w.NewWeight.ToString(CultureInfo.InvariantCulture), ReportText.Who(w), w.Detail ?? "",
        }));
        Table(h, "Alerts", ["raised", "severity", "rule", "subject", "resolved", "duration", "message"], r.Alerts.Select(a => new[]
        {
            ReportText.Time(a.RaisedAt), a.Severity.ToString(), a.Rule, a.Subject, a.ResolvedAt is { } at ? ReportText.Time(at) : "open", ReportText.Duration(a.Duration), a.Message,
        }));
        Table(h, "Configuration changes (secrets redacted)", ["time", "node/service", "result", "changes"], r.ConfigChanges.Select(c => new[]
        {
            ReportText.Time(c.At), $"{c.Node}/{c.Service}", c.Applied ? "applied " + c.File : "REJECTED " + c.File,
            string.Join("\n", c.Changes.Select(x => $"{x.Change} {x.ObjectType} {x.Key}{string.Concat(x.Fields.Select(f => $" {f.Field}: {f.Old ?? "-"} → {f.New ?? "-"}"))}").Concat(c.Errors)),
        }));
        Table(h, "Kernel rule changes", ["time", "node", "operation", "rule", "before", "after"], r.KernelChanges.Take(500).Select(k => new[]
        {
            ReportText.Time(k.At), k.Node, k.Operation.ToString(), k.RealServer ?? k.VirtualService, k.Before ?? "", k.After ?? "(deleted)",
        }));
        Table(h, "Kernel drift corrections", ["time", "node", "differences"], r.DriftCorrections.Select(d => new[]
        {
            ReportText.Time(d.At), d.Node, string.Join("\n", d.Differences),
        }));
        h.Append("<p style=\"font-size:11px;color:#777\">").Append(r.EventsRead).Append(" events read in ").Append(E(ReportText.Duration(r.Took))).Append("</p></body></html>");
        return h.ToString();
    }

    private static void Chart(StringBuilder h, PostmortemReport r)
    {
        var lanes = r.Lanes;
        var height = Top + Math.Max(1, lanes.Count) * LaneHeight + 30;
        var width = LabelWidth + ChartWidth + 20;
        var span = Math.Max(1, (r.To - r.From).Ticks);
        double X(DateTimeOffset t) => LabelWidth + ChartWidth * Math.Clamp((double)(t - r.From).Ticks / span, 0, 1);
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        h.Append("<h2>Timeline</h2><svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(width).Append("\" height=\"").Append(height)
         .Append("\" viewBox=\"0 0 ").Append(width).Append(' ').Append(height).Append("\">");
        h.Append("<rect x=\"0\" y=\"0\" width=\"").Append(width).Append("\" height=\"").Append(height).Append("\" fill=\"#fff\"/>");
        for (var i = 0; i <= 6; i++)
        {
            var t = r.From + TimeSpan.FromTicks(span * i / 6);
            var x = F(X(t));
            h.Append("<line x1=\"").Append(x).Append("\" y1=\"").Append(Top - 5).Append("\" x2=\"").Append(x).Append("\" y2=\"").Append(height - 25).Append("\" stroke=\"#eee\"/>");
            h.Append("<text x=\"").Append(x).Append("\" y=\"").Append(height - 10).Append("\" text-anchor=\"middle\">").Append(E(t.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture))).Append("</text>");
        }

        for (var i = 0; i < lanes.Count; i++)
        {
            var lane = lanes[i];
            var y = Top + i * LaneHeight;
            h.Append("<g class=\"lane ").Append(lane.Kind).Append("\"><text x=\"4\" y=\"").Append(y + 14).Append("\">").Append(E(Shorten(lane.Name, 52))).Append("</text>");
            foreach (var segment in lane.Segments)
            {
                var x1 = X(segment.From);
                var x2 = Math.Max(X(segment.To), x1 + 1);
                h.Append("<rect x=\"").Append(F(x1)).Append("\" y=\"").Append(y + 3).Append("\" width=\"").Append(F(x2 - x1)).Append("\" height=\"").Append(LaneHeight - 6)
                 .Append("\" fill=\"").Append(Colors.GetValueOrDefault(segment.State, "#bbb")).Append("\"><title>")
                 .Append(E($"{lane.Name}: {segment.Label} {ReportText.Time(segment.From)} .. {ReportText.Time(segment.To)} ({ReportText.Duration(segment.To - segment.From)})"))
                 .Append("</title></rect>");
            }

            h.Append("</g>");
        }

        foreach (var marker in r.Markers)
        {
            var x = F(X(marker.At));
            var color = MarkerColors.GetValueOrDefault(marker.Kind, "#333");
            h.Append("<g class=\"marker ").Append(marker.Kind).Append("\"><line x1=\"").Append(x).Append("\" y1=\"").Append(Top - 12).Append("\" x2=\"").Append(x).Append("\" y2=\"").Append(height - 25)
             .Append("\" stroke=\"").Append(color).Append("\" stroke-dasharray=\"3,3\" stroke-width=\"1\"/><path d=\"M").Append(x).Append(' ').Append(Top - 6)
             .Append(" l-5 -9 h10 z\" fill=\"").Append(color).Append("\"><title>").Append(E($"{ReportText.Time(marker.At)} {marker.Label}")).Append("</title></path></g>");
        }

        if (r.LanesOmitted > 0)
        {
            h.Append("<text x=\"4\" y=\"").Append(height - 10).Append("\">").Append(r.LanesOmitted).Append(" steady real servers not shown</text>");
        }

        h.Append("</svg>");
    }

    private static void Table(StringBuilder h, string title, string[] headers, IEnumerable<string[]> rows)
    {
        var list = rows.ToList();
        h.Append("<h2>").Append(E(title)).Append(" (").Append(list.Count).Append(")</h2>");
        if (list.Count == 0)
        {
            h.Append("<p>none</p>");
            return;
        }

        h.Append("<table><tr>");
        foreach (var header in headers)
        {
            h.Append("<th>").Append(E(header)).Append("</th>");
        }

        h.Append("</tr>");
        foreach (var row in list)
        {
            h.Append("<tr>");
            foreach (var cell in row)
            {
                h.Append("<td>").Append(E(cell).Replace("\n", "<br>", StringComparison.Ordinal)).Append("</td>");
            }

            h.Append("</tr>");
        }

        h.Append("</table>");
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : "…" + text[^(max - 1)..];

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
