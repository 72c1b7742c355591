using LvsEvents.Eventing.Metrics;
using Prometheus;

namespace LvsEvents.IpvsWriter.Statistics;

/// <summary>
/// The same numbers as <see cref="KernelStatisticsPoints"/>, for Prometheus: <c>kernel_service_FIELD</c> labelled node,
/// backend, virtual_service and <c>kernel_destination_FIELD</c> with real_server too. Set from the latest sample when
/// scraped; series of services and destinations that left the table are removed.
/// </summary>
public static class KernelStatisticsGauges
{
    private static readonly string[] ServiceLabels = ["node", "backend", "virtual_service"];
    private static readonly string[] DestinationLabels = [.. ServiceLabels, "real_server"];
    private static readonly Dictionary<string, Gauge> Service = Create(KernelStatisticsPoints.ServiceMeasurement, "virtual service", ServiceLabels);
    private static readonly Dictionary<string, Gauge> Destination = Create(KernelStatisticsPoints.DestinationMeasurement, "real server", DestinationLabels);
    private static readonly Gauge DestinationWeight = Metrics.CreateGauge($"{KernelStatisticsPoints.DestinationMeasurement}_weight", "The real server's weight in the kernel table.", DestinationLabels);
    private static readonly Lock Gate = new();
    private static readonly GaugeSeriesSet Exported = new();

    public static void Update(string nodeId, KernelStatisticsSample sample)
    {
        lock (Gate)
        {
            foreach (var service in sample.Services)
            {
                string[] labels = [nodeId, sample.Backend, service.Ref.ToString()];
                foreach (var (field, value) in KernelStatisticsPoints.Values(service.Counters, service.Rates))
                {
                    Exported.Set(Service[field], labels, value);
                }

                foreach (var destination in service.Destinations)
                {
                    string[] destinationLabels = [.. labels, destination.RealServer];
                    foreach (var (field, value) in KernelStatisticsPoints.Values(destination.Counters, destination.Rates))
                    {
                        Exported.Set(Destination[field], destinationLabels, value);
                    }

                    Exported.Set(DestinationWeight, destinationLabels, destination.Weight);
                }
            }

            Exported.Complete();
        }
    }

    private static Dictionary<string, Gauge> Create(string measurement, string what, string[] labels) =>
        KernelStatisticsPoints.CounterFields.Concat(KernelStatisticsPoints.RateFields).ToDictionary(
            field => field,
            field => Metrics.CreateGauge($"{measurement}_{field}", $"{field.Replace('_', ' ')} of the {what}, as the kernel counts it (ipvsadm -Ln --stats --rate).", labels));
}
