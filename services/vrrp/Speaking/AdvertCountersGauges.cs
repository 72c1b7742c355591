using System.Globalization;
using LvsEvents.Contracts;
using Prometheus;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>The same counters as <see cref="AdvertCountersPoint"/>, for Prometheus: <c>vrrp_adverts_*</c> labelled node, instance, vrid.</summary>
public static class AdvertCountersGauges
{
    private static readonly string[] Labels = ["node", "instance", "vrid"];
    private static readonly Gauge Sent = Metrics.CreateGauge("vrrp_adverts_sent", "Adverts sent by this node for the instance.", Labels);
    private static readonly Gauge Received = Metrics.CreateGauge("vrrp_adverts_received", "Adverts received for the instance.", Labels);
    private static readonly Gauge Rejected = Metrics.CreateGauge("vrrp_adverts_rejected", "Received adverts rejected, by reason.", [.. Labels, "reason"]);
    private static readonly Gauge Priority = Metrics.CreateGauge("vrrp_adverts_effective_priority", "The priority this node advertises.", Labels);
    private static readonly Gauge Master = Metrics.CreateGauge("vrrp_adverts_master", "1 while this node is master of the instance.", Labels);

    public static void Update(string nodeId, VrrpInstanceRunner runner)
    {
        string[] labels = [nodeId, runner.Name, runner.Definition.VirtualRouterId.ToString(CultureInfo.InvariantCulture)];
        Sent.WithLabels(labels).Set(runner.AdvertsSent);
        Received.WithLabels(labels).Set(runner.AdvertsReceived);
        Priority.WithLabels(labels).Set(runner.EffectivePriority);
        Master.WithLabels(labels).Set(runner.State == VrrpState.Master ? 1 : 0);
        foreach (var (reason, count) in runner.Rejections.Snapshot())
            Rejected.WithLabels([.. labels, reason.ToString()]).Set(count);
    }
}
