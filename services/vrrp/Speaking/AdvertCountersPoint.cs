using System.Globalization;
using LvsEvents.Contracts;
using LvsEvents.Influx;
using LvsEvents.Vrrp.Protocol;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>An instance's advert counters as an InfluxDB point (measurement <c>vrrp_adverts</c>): metrics, not events.</summary>
public static class AdvertCountersPoint
{
    public static InfluxPoint From(string nodeId, string instance, int virtualRouterId, VrrpState state, int effectivePriority,
        long sent, long received, RejectionCounters rejections, DateTimeOffset at)
    {
        var fields = new List<KeyValuePair<string, InfluxFieldValue>>
        {
            new("sent", sent),
            new("received", received),
            new("rejected", rejections.TotalRejected),
            new("effective_priority", effectivePriority),
            new("state", state.ToString()),
            new("master", state == VrrpState.Master),
        };
        fields.AddRange(rejections.Snapshot().Select(r => new KeyValuePair<string, InfluxFieldValue>($"rejected_{r.Key}", r.Value)));
        return new InfluxPoint("vrrp_adverts",
            [new("node", nodeId), new("instance", instance), new("vrid", virtualRouterId.ToString(CultureInfo.InvariantCulture))],
            fields, at);
    }
}
