using System.Globalization;
using System.Net;

namespace LvsEvents.Ipvs.VmTests;

/// <summary>
/// /proc/net/ip_vs reduced to comparable lines: "TCP 10.0.0.1:80 wrr" per service and
/// "  -> 10.0.1.2:8080 Masq 3" per destination (the kernel's own view, independent of netlink and ipvsadm).
/// </summary>
internal static class ProcNetIpvs
{
    public static SortedSet<string> Read(string text)
    {
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        string? service = null;
        foreach (var raw in text.Split('\n').Skip(3))
        {
            var fields = raw.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }
            if (fields[0] == "->")
            {
                lines.Add($"{service} -> {HexEndpoint(fields[1])} {fields[2]} {fields[3]}");
            }
            else if (fields[0] == "FWM")
            {
                service = $"FWM {uint.Parse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture)} {fields[2]}";
                lines.Add(service);
            }
            else
            {
                service = $"{fields[0]} {HexEndpoint(fields[1])} {fields[2]}";
                lines.Add(service);
            }
        }
        return lines;
    }

    public static SortedSet<string> FromTable(IReadOnlyList<IpvsTableEntry> table)
    {
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (service, destinations) in table)
        {
            var name = service.IsFirewallMark
                ? $"FWM {service.FirewallMark} {service.Scheduler}"
                : $"{service.Protocol.ToString().ToUpperInvariant()} {Endpoint(service.Address!, service.Port)} {service.Scheduler}";
            lines.Add(name);
            foreach (var d in destinations)
            {
                var method = d.ForwardMethod switch
                {
                    IpvsForwardMethod.Masquerade => "Masq",
                    IpvsForwardMethod.Tunnel => "Tunnel",
                    IpvsForwardMethod.DirectRoute => "Route",
                    IpvsForwardMethod.Local => "Local",
                    _ => "Bypass",
                };
                lines.Add($"{name} -> {Endpoint(d.Address, d.Port)} {method} {d.Weight}");
            }
        }
        return lines;
    }

    private static string Endpoint(IPAddress address, ushort port) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    // "0A000001:0050" or "[2001:0db8:...:0001]:01BB"
    private static string HexEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        var port = ushort.Parse(text[(colon + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var host = text[..colon];
        var address = host.StartsWith('[')
            ? IPAddress.Parse(host.Trim('[', ']'))
            : new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(
                uint.Parse(host, NumberStyles.HexNumber, CultureInfo.InvariantCulture))));
        return Endpoint(address, port);
    }
}
