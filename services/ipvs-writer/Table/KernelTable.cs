using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using LvsEvents.Contracts;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Table;

/// <summary>
/// What identifies a kernel virtual service: protocol + address + port, or a firewall mark (then address and port are
/// empty). Both backends key their tables by it.
/// </summary>
public sealed record ServiceKey(string Protocol, string Address, int Port, uint FirewallMark = 0) : IComparable<ServiceKey>
{
    public bool IsFirewallMark => FirewallMark != 0;

    public bool IsIPv6 => Address.Contains(':');

    public static ServiceKey ForMark(uint mark, string protocol = "TCP") => new(protocol, "", 0, mark);

    /// <summary>The virtual service reference used in events about this kernel service.</summary>
    public VirtualServiceRef ToRef() => IsFirewallMark ? VirtualServiceRef.ForFirewallMark(FirewallMark, Protocol) : new VirtualServiceRef(Protocol, Address, Port);

    /// <summary>ipvsadm's service option: <c>-t 10.0.0.1:80</c>, <c>-u ...</c>, <c>--sctp-service ...</c>, <c>-f 5</c>.</summary>
    public string IpvsadmOption => IsFirewallMark
        ? $"-f {FirewallMark.ToString(CultureInfo.InvariantCulture)}"
        : $"{Protocol switch { "UDP" => "-u", "SCTP" => "--sctp-service", _ => "-t" }} {EndpointFormat.Format(Address, Port)}";

    public override string ToString() => IsFirewallMark
        ? $"FWM {FirewallMark.ToString(CultureInfo.InvariantCulture)}"
        : $"{Protocol} {EndpointFormat.Format(Address, Port)}";

    public int CompareTo(ServiceKey? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = FirewallMark.CompareTo(other.FirewallMark);
        if (c != 0)
        {
            return c;
        }

        c = string.CompareOrdinal(Protocol, other.Protocol);
        if (c != 0)
        {
            return c;
        }

        c = AddressOrder.Compare(Address, other.Address);
        return c != 0 ? c : Port.CompareTo(other.Port);
    }
}

/// <summary>A destination of a virtual service: address and port (port 0 for "keep the client's port" under a mark).</summary>
public sealed record DestinationKey(string Address, int Port) : IComparable<DestinationKey>
{
    public override string ToString() => EndpointFormat.Format(Address, Port);

    public int CompareTo(DestinationKey? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = AddressOrder.Compare(Address, other.Address);
        return c != 0 ? c : Port.CompareTo(other.Port);
    }
}

/// <summary>A real server as the kernel holds it.</summary>
public sealed record KernelDestination(
    DestinationKey Key,
    int Weight,
    ForwardingMethod Method = ForwardingMethod.Nat,
    int UpperThreshold = 0,
    int LowerThreshold = 0)
{
    /// <summary>ipvsadm's forwarding option: -m (masquerading/NAT), -g (gatewaying/DR), -i (ipip/TUN).</summary>
    public string MethodOption => Method switch
    {
        ForwardingMethod.DirectRouting => "-g",
        ForwardingMethod.Tunnel => "-i",
        _ => "-m",
    };

    /// <summary>ipvsadm -Ln's Forward column.</summary>
    public string MethodName => Method switch
    {
        ForwardingMethod.DirectRouting => "Route",
        ForwardingMethod.Tunnel => "Tunnel",
        _ => "Masq",
    };
}

/// <summary>A virtual service with its destinations. Settings compare with <see cref="SameSettings"/>; destinations by key.</summary>
public sealed record KernelService(
    ServiceKey Key,
    string Scheduler,
    int? PersistenceTimeout,
    string? PersistenceNetmask,
    ImmutableSortedDictionary<DestinationKey, KernelDestination> Destinations)
{
    public static KernelService Create(ServiceKey key, string scheduler, int? persistenceTimeout, string? persistenceNetmask, IEnumerable<KernelDestination> destinations)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<DestinationKey, KernelDestination>();
        foreach (var d in destinations)
        {
            builder[d.Key] = d;
        }

        return new KernelService(key, scheduler, persistenceTimeout, NormalizeNetmask(persistenceTimeout, persistenceNetmask), builder.ToImmutable());
    }

    /// <summary>The full host mask is the kernel's default and is not kept, so a read and a configured service compare equal.</summary>
    public static string? NormalizeNetmask(int? persistenceTimeout, string? netmask) =>
        persistenceTimeout is null || netmask is null or "255.255.255.255" or "128" or "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" ? null : netmask;

    public bool SameSettings(KernelService other) =>
        Key == other.Key && Scheduler == other.Scheduler && PersistenceTimeout == other.PersistenceTimeout && PersistenceNetmask == other.PersistenceNetmask;

    public KernelService WithDestinations(IEnumerable<KernelDestination> destinations) =>
        Create(Key, Scheduler, PersistenceTimeout, PersistenceNetmask, destinations);

    /// <summary>The service line of <c>ipvsadm -S -n</c>, e.g. <c>-A -t 10.0.0.1:80 -s wrr -p 300</c>.</summary>
    public string SaveLine()
    {
        var line = new StringBuilder($"-A {Key.IpvsadmOption} -s {Scheduler}");
        if (PersistenceTimeout is { } timeout)
        {
            line.Append(CultureInfo.InvariantCulture, $" -p {timeout}");
            if (PersistenceNetmask is { } mask)
            {
                line.Append(CultureInfo.InvariantCulture, $" -M {mask}");
            }
        }

        return line.ToString();
    }

    /// <summary>A destination line of <c>ipvsadm -S -n</c>, e.g. <c>-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 3</c>.</summary>
    public string SaveLine(KernelDestination destination)
    {
        var line = new StringBuilder($"-a {Key.IpvsadmOption} -r {destination.Key} {destination.MethodOption} -w {destination.Weight.ToString(CultureInfo.InvariantCulture)}");
        if (destination.UpperThreshold != 0)
        {
            line.Append(CultureInfo.InvariantCulture, $" -x {destination.UpperThreshold}");
        }

        if (destination.LowerThreshold != 0)
        {
            line.Append(CultureInfo.InvariantCulture, $" -y {destination.LowerThreshold}");
        }

        if (destination.Method == ForwardingMethod.Tunnel)
        {
            // ipvsadm 1.31 names the tunnel type of every tunnelled destination.
            line.Append(" --tun-type ipip");
        }

        return line.ToString();
    }
}

/// <summary>
/// Counters a backend may read with the table; null where it cannot (IPVS has them all; nftables counts only new
/// connections per service, since its nat chains see the first packet of a connection only).
/// </summary>
public sealed record TrafficStatistics(
    long? Connections,
    long? InPackets = null,
    long? OutPackets = null,
    long? InBytes = null,
    long? OutBytes = null,
    long? ActiveConnections = null,
    long? InactiveConnections = null);

/// <summary>The whole load-balancing table: desired (computed) or actual (read from the kernel).</summary>
public sealed record KernelTable(ImmutableSortedDictionary<ServiceKey, KernelService> Services)
{
    public static readonly KernelTable Empty = new(ImmutableSortedDictionary<ServiceKey, KernelService>.Empty);

    /// <summary>Per service, when the backend read them (null keys never occur; missing means unknown).</summary>
    public ImmutableDictionary<ServiceKey, TrafficStatistics> ServiceStatistics { get; init; } = ImmutableDictionary<ServiceKey, TrafficStatistics>.Empty;

    /// <summary>Per service and destination, when the backend read them.</summary>
    public ImmutableDictionary<(ServiceKey, DestinationKey), TrafficStatistics> DestinationStatistics { get; init; } =
        ImmutableDictionary<(ServiceKey, DestinationKey), TrafficStatistics>.Empty;

    /// <summary>What a read found that does not fit the backend's layout (e.g. a hand-edited nftables chain); empty normally.</summary>
    public ImmutableList<string> Problems { get; init; } = [];

    public static KernelTable Of(IEnumerable<KernelService> services)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<ServiceKey, KernelService>();
        foreach (var s in services)
        {
            builder[s.Key] = s;
        }

        return new KernelTable(builder.ToImmutable());
    }

    public int DestinationCount => Services.Values.Sum(s => s.Destinations.Count);

    public KernelTable With(KernelService service) => this with { Services = Services.SetItem(service.Key, service) };

    public KernelTable Without(ServiceKey key) => this with { Services = Services.Remove(key) };

    /// <summary>Same services, settings and destinations (statistics and problems are not compared).</summary>
    public bool SameRules(KernelTable other) => KernelTableDiff.Compute(this, other).Count == 0;

    /// <summary>The table as <c>ipvsadm -S -n</c> prints it.</summary>
    public IEnumerable<string> SaveLines()
    {
        foreach (var service in Services.Values)
        {
            yield return service.SaveLine();
            foreach (var destination in service.Destinations.Values)
            {
                yield return service.SaveLine(destination);
            }
        }
    }
}

/// <summary>
/// Numeric order of addresses (10.0.0.9 before 10.0.0.10), IPv4 before IPv6, so listings read naturally. Parsed
/// forms are cached: sorted tables compare the same few thousand addresses over and over.
/// </summary>
internal static class AddressOrder
{
    private const int CacheLimit = 1 << 20;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int Family, UInt128 Value)> Cache = new(StringComparer.Ordinal);

    public static int Compare(string a, string b)
    {
        if (ReferenceEquals(a, b))
        {
            return 0;
        }

        var x = Key(a);
        var y = Key(b);
        var c = x.Family.CompareTo(y.Family);
        if (c != 0)
        {
            return c;
        }

        c = x.Value.CompareTo(y.Value);
        return c != 0 || x.Family != 0 ? c : string.CompareOrdinal(a, b);
    }

    private static (int Family, UInt128 Value) Key(string address)
    {
        if (Cache.TryGetValue(address, out var key))
        {
            return key;
        }

        key = (0, UInt128.Zero);
        if (System.Net.IPAddress.TryParse(address, out var ip))
        {
            var bytes = ip.GetAddressBytes();
            var value = UInt128.Zero;
            foreach (var b in bytes)
            {
                value = (value << 8) | b;
            }

            key = (bytes.Length == 4 ? 1 : 2, value);
        }

        if (Cache.Count >= CacheLimit)
        {
            Cache.Clear();
        }

        Cache[address] = key;
        return key;
    }
}
