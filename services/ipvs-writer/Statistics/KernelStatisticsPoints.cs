using LvsEvents.Influx;
using LvsEvents.IpvsWriter.Table;

namespace LvsEvents.IpvsWriter.Statistics;

/// <summary>
/// A statistics sample as InfluxDB points: measurement <c>kernel_service</c> per virtual service and
/// <c>kernel_destination</c> per real server, tagged node, backend, virtual_service (and real_server). Fields are
/// <c>ipvsadm -Ln --stats --rate</c>'s columns; what the backend cannot count is left out.
/// </summary>
public static class KernelStatisticsPoints
{
    public const string ServiceMeasurement = "kernel_service";
    public const string DestinationMeasurement = "kernel_destination";

    /// <summary>The field names, in the order written (Prometheus gauges are <c>MEASUREMENT_FIELD</c>).</summary>
    public static readonly IReadOnlyList<string> CounterFields =
        ["active_connections", "inactive_connections", "connections", "in_packets", "out_packets", "in_bytes", "out_bytes"];

    public static readonly IReadOnlyList<string> RateFields =
        ["connections_per_second", "in_packets_per_second", "out_packets_per_second", "in_bytes_per_second", "out_bytes_per_second"];

    public static IEnumerable<InfluxPoint> From(string nodeId, KernelStatisticsSample sample)
    {
        foreach (var service in sample.Services)
        {
            var tags = new List<KeyValuePair<string, string?>> { new("node", nodeId), new("backend", sample.Backend), new("virtual_service", service.Ref.ToString()) };
            var fields = Fields(service.Counters, service.Rates);
            fields.Add(new("destinations", service.Destinations.Count));
            yield return new InfluxPoint(ServiceMeasurement, tags, fields, sample.At);
            foreach (var destination in service.Destinations)
            {
                var destinationFields = Fields(destination.Counters, destination.Rates);
                destinationFields.Add(new("weight", destination.Weight));
                yield return new InfluxPoint(DestinationMeasurement, [.. tags, new("real_server", destination.RealServer)], destinationFields, sample.At);
            }
        }
    }

    /// <summary>Field name and value of every counter and rate the sample has (nulls left out).</summary>
    public static IEnumerable<(string Field, double Value)> Values(TrafficStatistics counters, TrafficRates? rates)
    {
        long?[] c = [counters.ActiveConnections, counters.InactiveConnections, counters.Connections, counters.InPackets, counters.OutPackets, counters.InBytes, counters.OutBytes];
        for (var i = 0; i < c.Length; i++)
        {
            if (c[i] is { } value)
            {
                yield return (CounterFields[i], value);
            }
        }

        double?[] r = [rates?.ConnectionsPerSecond, rates?.InPacketsPerSecond, rates?.OutPacketsPerSecond, rates?.InBytesPerSecond, rates?.OutBytesPerSecond];
        for (var i = 0; i < r.Length; i++)
        {
            if (r[i] is { } value)
            {
                yield return (RateFields[i], value);
            }
        }
    }

    private static List<KeyValuePair<string, InfluxFieldValue>> Fields(TrafficStatistics counters, TrafficRates? rates)
    {
        // Counters are integers and rates floats, always: InfluxDB fixes a field's type at its first write.
        var fields = new List<KeyValuePair<string, InfluxFieldValue>>();
        long?[] c = [counters.ActiveConnections, counters.InactiveConnections, counters.Connections, counters.InPackets, counters.OutPackets, counters.InBytes, counters.OutBytes];
        for (var i = 0; i < c.Length; i++)
        {
            if (c[i] is { } value)
            {
                fields.Add(new(CounterFields[i], InfluxFieldValue.Integer(value)));
            }
        }

        double?[] r = [rates?.ConnectionsPerSecond, rates?.InPacketsPerSecond, rates?.OutPacketsPerSecond, rates?.InBytesPerSecond, rates?.OutBytesPerSecond];
        for (var i = 0; i < r.Length; i++)
        {
            if (r[i] is { } value)
            {
                fields.Add(new(RateFields[i], InfluxFieldValue.Float(value)));
            }
        }

        return fields;
    }
}
