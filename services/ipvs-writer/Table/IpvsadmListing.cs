using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Table;

/// <summary>
/// The table in <c>ipvsadm -Ln</c> layout (plain, <c>--stats</c>, <c>--rate</c>), column widths as ipvsadm prints
/// them (ipvsadm 1.31's printf formats). Values a backend cannot read are printed as <c>-</c> (nftables has no per-destination counters).
/// </summary>
public static class IpvsadmListing
{
    public enum Mode
    {
        Plain,
        Stats,
        Rate,
    }

    /// <param name="header">The first line (ipvsadm: <c>IP Virtual Server version 1.2.1 (size=4096)</c>).</param>
    /// <param name="rates">For <see cref="Mode.Rate"/>: per-second values, computed by the caller from two reads.</param>
    public static string Format(KernelTable table, Mode mode, string header, KernelTable? rates = null)
    {
        var text = new StringBuilder();
        text.Append(header).Append('\n');
        switch (mode)
        {
            case Mode.Stats:
                text.Append("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n");
                text.Append("  -> RemoteAddress:Port\n");
                break;
            case Mode.Rate:
                text.Append("Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n");
                text.Append("  -> RemoteAddress:Port\n");
                break;
            default:
                text.Append("Prot LocalAddress:Port Scheduler Flags\n");
                text.Append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
                break;
        }

        var counters = mode == Mode.Rate ? rates ?? table : table;
        foreach (var service in table.Services.Values)
        {
            var name = service.Key.IsFirewallMark
                ? $"FWM  {service.Key.FirewallMark.ToString(CultureInfo.InvariantCulture)}"
                : $"{service.Key.Protocol}  {EndpointFormat.Format(service.Key.Address, service.Key.Port)}";
            if (mode == Mode.Plain)
            {
                text.Append(name).Append(' ').Append(service.Scheduler);
                if (service.PersistenceTimeout is { } timeout)
                {
                    text.Append(" persistent ").Append(timeout.ToString(CultureInfo.InvariantCulture));
                    if (service.PersistenceNetmask is { } mask)
                    {
                        text.Append(" mask ").Append(mask);
                    }
                }

                text.Append('\n');
                foreach (var d in service.Destinations.Values)
                {
                    var s = table.DestinationStatistics.GetValueOrDefault((service.Key, d.Key));
                    // Trailing spaces included, as ipvsadm's "%-10u %-10u\n" prints them.
                    text.Append(CultureInfo.InvariantCulture, $"  -> {d.Key,-28} {d.MethodName,-7} {d.Weight,-6} {Number(s?.ActiveConnections),-10} {Number(s?.InactiveConnections),-10}\n");
                }

                continue;
            }

            var stats = counters.ServiceStatistics.GetValueOrDefault(service.Key);
            text.Append(CultureInfo.InvariantCulture, $"{name,-33}{Large(stats?.Connections)}{Large(stats?.InPackets)}{Large(stats?.OutPackets)}{Large(stats?.InBytes)}{Large(stats?.OutBytes)}\n");
            foreach (var d in service.Destinations.Values)
            {
                var s = counters.DestinationStatistics.GetValueOrDefault((service.Key, d.Key));
                text.Append(CultureInfo.InvariantCulture, $"  -> {d.Key,-28}{Large(s?.Connections)}{Large(s?.InPackets)}{Large(s?.OutPackets)}{Large(s?.InBytes)}{Large(s?.OutBytes)}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>Per-second rates between two reads of the same table (counters only; settings from <paramref name="later"/>).</summary>
    public static KernelTable Rates(KernelTable earlier, KernelTable later, TimeSpan between)
    {
        var seconds = Math.Max(between.TotalSeconds, 0.001);
        long? Rate(long? a, long? b) => a is { } x && b is { } y ? (long)Math.Round((y - x) / seconds) : null;
        TrafficStatistics Diff(TrafficStatistics? a, TrafficStatistics b) =>
            new(Rate(a?.Connections, b.Connections), Rate(a?.InPackets, b.InPackets), Rate(a?.OutPackets, b.OutPackets), Rate(a?.InBytes, b.InBytes), Rate(a?.OutBytes, b.OutBytes));
        return later with
        {
            ServiceStatistics = later.ServiceStatistics.ToImmutableDictionary(p => p.Key, p => Diff(earlier.ServiceStatistics.GetValueOrDefault(p.Key), p.Value)),
            DestinationStatistics = later.DestinationStatistics.ToImmutableDictionary(p => p.Key, p => Diff(earlier.DestinationStatistics.GetValueOrDefault(p.Key), p.Value)),
        };
    }

    /// <summary>ipvsadm's print_largenum: <c>%9llu</c> below 100 million, then <c>%8lluK</c>, <c>M</c>, <c>G</c>, <c>T</c>.</summary>
    private static string Large(long? value)
    {
        if (value is not { } n)
        {
            return "        -";
        }

        var (shown, suffix) = n switch
        {
            < 100_000_000 => (n, ""),
            < 1_000_000_000 => (n / 1_000, "K"),
            < 100_000_000_000 => (n / 1_000_000, "M"),
            < 100_000_000_000_000 => (n / 1_000_000_000, "G"),
            _ => (n / 1_000_000_000_000, "T"),
        };
        return suffix.Length == 0
            ? shown.ToString(CultureInfo.InvariantCulture).PadLeft(9)
            : shown.ToString(CultureInfo.InvariantCulture).PadLeft(8) + suffix;
    }

    private static string Number(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
