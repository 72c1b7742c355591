using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Alerts;

/// <summary>
/// A director's kernel table holds more active connections (all virtual services together, from the IPVS writer's
/// <c>kernel.statistics</c>) than <paramref name="threshold"/>. Clears once back under 90 % of it, so a count hovering
/// at the line does not raise an alert every poll.
/// </summary>
public sealed class ActiveConnectionsRule(long threshold) : IAlertRule
{
    public string Name => "active-connections-high";

    public IEnumerable<AlertChange> Observe(LvsEvent e)
    {
        if (e is not KernelStatisticsReported { TotalActiveConnections: { } active } k)
            yield break;
        if (active > threshold)
        {
            var busiest = k.Services.Where(s => s.ActiveConnections is not null).OrderByDescending(s => s.ActiveConnections).FirstOrDefault();
            yield return new AlertFires(Name, k.NodeId, AlertSeverity.Warning,
                $"{k.NodeId} has {active} active connections (threshold {threshold}){(busiest is null ? "" : $"; busiest {busiest.VirtualService} with {busiest.ActiveConnections}")}", k.EventId);
        }
        else if (active <= threshold * 9 / 10)
        {
            yield return new AlertClears(Name, k.NodeId, k.EventId);
        }
    }
}
