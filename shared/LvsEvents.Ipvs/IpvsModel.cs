using System.Net;
using System.Net.Sockets;

namespace LvsEvents.Ipvs;

/// <summary>Linux address families as IPVS encodes them (AF_INET, AF_INET6), not .NET's numbering.</summary>
public enum IpvsAddressFamily : ushort
{
    IPv4 = 2,
    IPv6 = 10,
}

/// <summary>The protocol of a virtual service; <see cref="None"/> for firewall-mark services.</summary>
public enum IpvsProtocol : ushort
{
    None = 0,
    Tcp = 6,
    Udp = 17,
    Sctp = 132,
}

/// <summary>How packets reach a real server (IP_VS_CONN_F_* forwarding methods).</summary>
public enum IpvsForwardMethod : uint
{
    /// <summary>NAT ("Masq", <c>-m</c>).</summary>
    Masquerade = 0,
    Local = 1,
    /// <summary>IP-in-IP, GUE or GRE tunnelling ("Tunnel", <c>-i</c>).</summary>
    Tunnel = 2,
    /// <summary>Direct routing / gatewaying ("Route", <c>-g</c>).</summary>
    DirectRoute = 3,
    Bypass = 4,
}

/// <summary>Virtual service flags (IP_VS_SVC_F_*).</summary>
[Flags]
public enum IpvsServiceFlags : uint
{
    None = 0,
    Persistent = 0x1,
    /// <summary>Set by the kernel on every service it lists; ignored when writing.</summary>
    Hashed = 0x2,
    OnePacket = 0x4,
    /// <summary>sh-fallback / mh-fallback for the sh and mh schedulers.</summary>
    Scheduler1 = 0x8,
    /// <summary>sh-port / mh-port for the sh and mh schedulers.</summary>
    Scheduler2 = 0x10,
    Scheduler3 = 0x20,
}

public enum IpvsTunnelType : byte
{
    IpIp = 0,
    Gue = 1,
    Gre = 2,
}

/// <summary>GUE/GRE encapsulation flags (IP_VS_TUNNEL_ENCAP_FLAG_*); no flag means no checksum (--tun-nocsum).</summary>
[Flags]
public enum IpvsTunnelFlags : ushort
{
    NoChecksum = 0,
    Checksum = 0x1,
    RemoteChecksum = 0x2,
}

/// <summary>The role of a connection synchronisation daemon.</summary>
public enum IpvsSyncState : uint
{
    Master = 1,
    Backup = 2,
}

/// <summary>Counters and rates of a service or destination (64-bit where the kernel gives IPVS_*_ATTR_STATS64).</summary>
public sealed record IpvsStatistics(
    ulong Connections,
    ulong InPackets,
    ulong OutPackets,
    ulong InBytes,
    ulong OutBytes,
    ulong ConnectionsPerSecond,
    ulong InPacketsPerSecond,
    ulong OutPacketsPerSecond,
    ulong InBytesPerSecond,
    ulong OutBytesPerSecond)
{
    public static readonly IpvsStatistics Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

/// <summary>What identifies a virtual service to the kernel: address, port and protocol, or firewall mark.</summary>
public readonly record struct IpvsServiceKey(
    IpvsAddressFamily Family, IpvsProtocol Protocol, IPAddress? Address, ushort Port, uint FirewallMark)
{
    public override string ToString() => IpvsText.ServiceName(Family, Protocol, Address, Port, FirewallMark);
}

/// <summary>
/// A virtual service. Identified by <see cref="Protocol"/> + <see cref="Address"/> + <see cref="Port"/>, or by
/// <see cref="FirewallMark"/> (then Protocol is None and Address null). Values read from the kernel also carry
/// <see cref="Statistics"/>; <see cref="ConfigurationEquals"/> compares what can be written.
/// </summary>
public sealed record IpvsService
{
    private readonly IpvsAddressFamily? _family;

    public IpvsAddressFamily Family
    {
        get => _family ?? (Address?.AddressFamily == AddressFamily.InterNetworkV6 ? IpvsAddressFamily.IPv6 : IpvsAddressFamily.IPv4);
        init => _family = value;
    }

    public IpvsProtocol Protocol { get; init; }
    public IPAddress? Address { get; init; }
    public ushort Port { get; init; }
    public uint FirewallMark { get; init; }
    public string Scheduler { get; init; } = "wlc";
    public IpvsServiceFlags Flags { get; init; }

    /// <summary>Persistence timeout in seconds (used with <see cref="IpvsServiceFlags.Persistent"/>).</summary>
    public uint PersistenceTimeout { get; init; }

    /// <summary>
    /// Persistence granularity: for IPv4 the mask as a number (255.255.255.0 is 0xFFFFFF00), for IPv6 a prefix
    /// length. Null means a single client address (0xFFFFFFFF / 128); values read from the kernel are null then.
    /// </summary>
    public uint? Netmask { get; init; }

    /// <summary>Persistence engine (e.g. "sip"), or null.</summary>
    public string? PersistenceEngine { get; init; }

    /// <summary>Counters, only on values read from the kernel.</summary>
    public IpvsStatistics? Statistics { get; init; }

    public bool IsFirewallMark => FirewallMark != 0;

    public IpvsServiceKey Key => IsFirewallMark
        ? new IpvsServiceKey(Family, IpvsProtocol.None, null, 0, FirewallMark)
        : new IpvsServiceKey(Family, Protocol, Address, Port, 0);

    /// <summary>The netmask as the kernel takes it (the default filled in).</summary>
    public uint EffectiveNetmask => Netmask ?? (Family == IpvsAddressFamily.IPv6 ? 128u : 0xFFFFFFFFu);

    public static IpvsService Tcp(IPAddress address, ushort port, string scheduler = "wlc") =>
        new() { Protocol = IpvsProtocol.Tcp, Address = address, Port = port, Scheduler = scheduler };

    public static IpvsService Udp(IPAddress address, ushort port, string scheduler = "wlc") =>
        new() { Protocol = IpvsProtocol.Udp, Address = address, Port = port, Scheduler = scheduler };

    public static IpvsService Sctp(IPAddress address, ushort port, string scheduler = "wlc") =>
        new() { Protocol = IpvsProtocol.Sctp, Address = address, Port = port, Scheduler = scheduler };

    public static IpvsService Fwmark(uint mark, IpvsAddressFamily family = IpvsAddressFamily.IPv4, string scheduler = "wlc") =>
        new() { FirewallMark = mark, Family = family, Scheduler = scheduler };

    /// <summary>Persistent with <paramref name="timeoutSeconds"/> (ipvsadm's default is 300) and optional netmask.</summary>
    public IpvsService WithPersistence(uint timeoutSeconds = 300, uint? netmask = null) =>
        this with { Flags = Flags | IpvsServiceFlags.Persistent, PersistenceTimeout = timeoutSeconds, Netmask = netmask };

    /// <summary>An IPv4 netmask value for <see cref="Netmask"/> from a prefix length (24 → 255.255.255.0).</summary>
    public static uint Ipv4Netmask(int prefixLength) =>
        prefixLength is < 0 or > 32 ? throw new ArgumentOutOfRangeException(nameof(prefixLength))
        : prefixLength == 0 ? 0u : 0xFFFFFFFFu << (32 - prefixLength);

    /// <summary>Equal in everything that can be written (ignores counters and the kernel's Hashed flag).</summary>
    public bool ConfigurationEquals(IpvsService? other) =>
        other is not null && Key == other.Key && Scheduler == other.Scheduler
        && (Flags & ~IpvsServiceFlags.Hashed) == (other.Flags & ~IpvsServiceFlags.Hashed)
        && (!Flags.HasFlag(IpvsServiceFlags.Persistent) || (PersistenceTimeout == other.PersistenceTimeout && EffectiveNetmask == other.EffectiveNetmask))
        && string.IsNullOrEmpty(PersistenceEngine) == string.IsNullOrEmpty(other.PersistenceEngine)
        && (string.IsNullOrEmpty(PersistenceEngine) || PersistenceEngine == other.PersistenceEngine);

    // Family compares by value whether it was given or follows from the address.
    public bool Equals(IpvsService? other) =>
        other is not null && Family == other.Family && Protocol == other.Protocol && Equals(Address, other.Address)
        && Port == other.Port && FirewallMark == other.FirewallMark && Scheduler == other.Scheduler && Flags == other.Flags
        && PersistenceTimeout == other.PersistenceTimeout && Netmask == other.Netmask
        && PersistenceEngine == other.PersistenceEngine && Equals(Statistics, other.Statistics);

    public override int GetHashCode() => HashCode.Combine(Key, Scheduler, Flags, PersistenceTimeout, Netmask, PersistenceEngine);

    /// <summary>Key and settings as ipvsadm -Ln shows them: "TCP 10.0.0.1:80 wrr persistent 300 mask 255.255.255.0".</summary>
    public string Describe() => $"{Key} {IpvsFormatter.ServiceOptions(this)}";

    public override string ToString() => Key.ToString();
}

/// <summary>
/// A real server (destination) of a virtual service. Values read from the kernel also carry connection counts
/// and <see cref="Statistics"/>; <see cref="ConfigurationEquals"/> compares what can be written.
/// </summary>
public sealed record IpvsDestination
{
    public required IPAddress Address { get; init; }
    public ushort Port { get; init; }
    public IpvsForwardMethod ForwardMethod { get; init; } = IpvsForwardMethod.DirectRoute;
    public int Weight { get; init; } = 1;
    /// <summary>Upper connection threshold (0: none).</summary>
    public uint UpperThreshold { get; init; }
    /// <summary>Lower connection threshold (0: none).</summary>
    public uint LowerThreshold { get; init; }
    public IpvsTunnelType TunnelType { get; init; }
    /// <summary>GUE destination port.</summary>
    public ushort TunnelPort { get; init; }
    public IpvsTunnelFlags TunnelFlags { get; init; }

    public uint ActiveConnections { get; init; }
    public uint InactiveConnections { get; init; }
    public uint PersistentConnections { get; init; }
    public IpvsStatistics? Statistics { get; init; }

    public IpvsAddressFamily Family =>
        Address.AddressFamily == AddressFamily.InterNetworkV6 ? IpvsAddressFamily.IPv6 : IpvsAddressFamily.IPv4;

    /// <summary>Address and port: what identifies a destination within its service.</summary>
    public (IPAddress Address, ushort Port) Key => (Address, Port);

    public bool ConfigurationEquals(IpvsDestination? other) =>
        other is not null && Address.Equals(other.Address) && Port == other.Port && ForwardMethod == other.ForwardMethod
        && Weight == other.Weight && UpperThreshold == other.UpperThreshold && LowerThreshold == other.LowerThreshold
        && (ForwardMethod != IpvsForwardMethod.Tunnel
            || (TunnelType == other.TunnelType && TunnelPort == other.TunnelPort && TunnelFlags == other.TunnelFlags));

    /// <summary>"10.0.1.2:8080 Masq weight 3" plus thresholds and tunnel settings when set.</summary>
    public string Describe()
    {
        var text = $"{this} {IpvsFormatter.ForwardName(ForwardMethod)} weight {Weight}";
        if (UpperThreshold != 0 || LowerThreshold != 0)
        {
            text += $" thresholds {UpperThreshold}/{LowerThreshold}";
        }
        if (ForwardMethod == IpvsForwardMethod.Tunnel && TunnelType != IpvsTunnelType.IpIp)
        {
            text += $" {TunnelType.ToString().ToLowerInvariant()} port {TunnelPort} {TunnelFlags}";
        }
        return text;
    }

    public override string ToString() => IpvsText.AddressPort(Address, Port);
}

/// <summary>One virtual service with its destinations, as read from the kernel.</summary>
public sealed record IpvsTableEntry(IpvsService Service, IReadOnlyList<IpvsDestination> Destinations);

/// <summary>Connection timeouts in seconds (ipvsadm --set tcp tcpfin udp). On write, 0 leaves a value unchanged.</summary>
public sealed record IpvsTimeouts(uint Tcp, uint TcpFin, uint Udp);

/// <summary>A connection synchronisation daemon (ipvsadm --start-daemon).</summary>
public sealed record IpvsSyncDaemon
{
    public required IpvsSyncState State { get; init; }
    /// <summary>Multicast interface name (--mcast-interface).</summary>
    public required string Interface { get; init; }
    public uint SyncId { get; init; } = 255;
    /// <summary>Maximum sync message payload (--sync-maxlen), or null for the kernel's default.</summary>
    public ushort? MaxLength { get; init; }
    /// <summary>Multicast group (--mcast-group), or null for 224.0.0.81.</summary>
    public IPAddress? MulticastGroup { get; init; }
    public ushort? MulticastPort { get; init; }
    public byte? MulticastTtl { get; init; }
}

/// <summary>IPVS version (0x010201 is 1.2.1) and connection table size.</summary>
public sealed record IpvsInfo(uint Version, uint ConnectionTableSize)
{
    public string VersionText => $"{(Version >> 16) & 0xFF}.{(Version >> 8) & 0xFF}.{Version & 0xFF}";
}

public enum IpvsOperationKind
{
    AddService,
    UpdateService,
    DeleteService,
    AddDestination,
    UpdateDestination,
    DeleteDestination,
}

/// <summary>One write for <see cref="IpvsClient.Apply"/>, which sends many per system call.</summary>
public sealed record IpvsOperation(IpvsOperationKind Kind, IpvsService Service, IpvsDestination? Destination = null)
{
    public static IpvsOperation AddService(IpvsService service) => new(IpvsOperationKind.AddService, service);
    public static IpvsOperation UpdateService(IpvsService service) => new(IpvsOperationKind.UpdateService, service);
    public static IpvsOperation DeleteService(IpvsService service) => new(IpvsOperationKind.DeleteService, service);
    public static IpvsOperation AddDestination(IpvsService service, IpvsDestination destination) => new(IpvsOperationKind.AddDestination, service, destination);
    public static IpvsOperation UpdateDestination(IpvsService service, IpvsDestination destination) => new(IpvsOperationKind.UpdateDestination, service, destination);
    public static IpvsOperation DeleteDestination(IpvsService service, IpvsDestination destination) => new(IpvsOperationKind.DeleteDestination, service, destination);

    public override string ToString() => IpvsErrors.Describe(this);
}

internal static class IpvsText
{
    public static string Protocol(IpvsProtocol protocol) => protocol switch
    {
        IpvsProtocol.Tcp => "TCP",
        IpvsProtocol.Udp => "UDP",
        IpvsProtocol.Sctp => "SCTP",
        _ => $"proto {(ushort)protocol}",
    };

    public static string AddressPort(IPAddress? address, ushort port) => address is null
        ? $"?:{port}"
        : address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    public static string ServiceName(IpvsAddressFamily family, IpvsProtocol protocol, IPAddress? address, ushort port, uint fwmark) =>
        fwmark != 0
            ? family == IpvsAddressFamily.IPv6 ? $"FWM {fwmark} IPv6" : $"FWM {fwmark}"
            : $"{Protocol(protocol)} {AddressPort(address, port)}";
}
