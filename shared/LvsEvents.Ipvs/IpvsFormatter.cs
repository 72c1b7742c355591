using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LvsEvents.Ipvs;

/// <summary>The column set of <see cref="IpvsFormatter.List"/>, as ipvsadm's listing options.</summary>
public enum IpvsListFormat
{
    /// <summary><c>ipvsadm -Ln</c>.</summary>
    Default,
    /// <summary><c>ipvsadm -Ln --stats</c>.</summary>
    Stats,
    /// <summary><c>ipvsadm -Ln --rate</c>.</summary>
    Rate,
    /// <summary><c>ipvsadm -Ln --thresholds</c>.</summary>
    Thresholds,
    /// <summary><c>ipvsadm -Ln --persistent-conn</c>.</summary>
    PersistentConnections,
}

/// <summary>
/// Renders a table the way ipvsadm 1.31 does with numeric output (<c>-Ln</c> and its column options, <c>-S -n</c>),
/// sorted as ipvsadm sorts, so the two can be compared line by line.
/// </summary>
public static class IpvsFormatter
{
    /// <summary><c>ipvsadm -Ln</c> (with <paramref name="format"/>'s columns; <paramref name="exact"/>: --exact).</summary>
    public static string List(IpvsInfo info, IReadOnlyList<IpvsTableEntry> table, IpvsListFormat format = IpvsListFormat.Default, bool exact = false)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"IP Virtual Server version {info.VersionText} (size={info.ConnectionTableSize})\n");
        text.Append(format switch
        {
            IpvsListFormat.Stats => $"{"Prot LocalAddress:Port",-33} {"Conns",8} {"InPkts",8} {"OutPkts",8} {"InBytes",8} {"OutBytes",8}\n  -> RemoteAddress:Port\n",
            IpvsListFormat.Rate => $"{"Prot LocalAddress:Port",-33} {"CPS",8} {"InPPS",8} {"OutPPS",8} {"InBPS",8} {"OutBPS",8}\n  -> RemoteAddress:Port\n",
            IpvsListFormat.Thresholds => $"{"Prot LocalAddress:Port",-33} {"Uthreshold",-10} {"Lthreshold",-10} {"ActiveConn",-10} {"InActConn",-10}\n  -> RemoteAddress:Port\n",
            IpvsListFormat.PersistentConnections => $"{"Prot LocalAddress:Port",-33} {"Weight",-9} {"PersistConn",-11} {"ActiveConn",-10} {"InActConn",-10}\n  -> RemoteAddress:Port\n",
            _ => "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
        });
        foreach (var entry in Sorted(table))
        {
            var service = entry.Service;
            var name = ListName(service);
            var stats = service.Statistics ?? IpvsStatistics.Zero;
            switch (format)
            {
                case IpvsListFormat.Stats:
                    text.Append(name.PadRight(33));
                    Numbers(text, exact, stats.Connections, stats.InPackets, stats.OutPackets, stats.InBytes, stats.OutBytes);
                    break;
                case IpvsListFormat.Rate:
                    text.Append(name.PadRight(33));
                    Numbers(text, exact, stats.ConnectionsPerSecond, stats.InPacketsPerSecond, stats.OutPacketsPerSecond, stats.InBytesPerSecond, stats.OutBytesPerSecond);
                    break;
                default:
                    text.Append(name).Append(' ').Append(ServiceOptions(service));
                    break;
            }
            text.Append('\n');
            foreach (var d in SortedDestinations(entry.Destinations))
            {
                var dname = AddressPort(d.Address, d.Port);
                var ds = d.Statistics ?? IpvsStatistics.Zero;
                switch (format)
                {
                    case IpvsListFormat.Stats:
                        text.Append(("  -> " + dname).PadRight(33));
                        Numbers(text, exact, ds.Connections, ds.InPackets, ds.OutPackets, ds.InBytes, ds.OutBytes);
                        text.Append('\n');
                        break;
                    case IpvsListFormat.Rate:
                        text.Append(("  -> " + dname).PadRight(33));
                        Numbers(text, exact, ds.ConnectionsPerSecond, ds.InPacketsPerSecond, ds.OutPacketsPerSecond, ds.InBytesPerSecond, ds.OutBytesPerSecond);
                        text.Append('\n');
                        break;
                    case IpvsListFormat.Thresholds:
                        text.Append(CultureInfo.InvariantCulture, $"  -> {dname,-28} {d.UpperThreshold,-10} {d.LowerThreshold,-10} {d.ActiveConnections,-10} {d.InactiveConnections,-10}\n");
                        break;
                    case IpvsListFormat.PersistentConnections:
                        text.Append(CultureInfo.InvariantCulture, $"  -> {dname,-28} {d.Weight,-9} {d.PersistentConnections,-11} {d.ActiveConnections,-10} {d.InactiveConnections,-10}\n");
                        break;
                    default:
                        text.Append(CultureInfo.InvariantCulture, $"  -> {dname,-28} {ForwardName(d.ForwardMethod),-7} {d.Weight,-6} {d.ActiveConnections,-10} {d.InactiveConnections,-10}\n");
                        break;
                }
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// <c>ipvsadm -S -n</c>: the rules that ipvsadm-restore reads. ipvsadm 1.31 leaves out thresholds; with
    /// <paramref name="thresholds"/> non-zero ones are written as <c>-x</c>/<c>-y</c> (which ipvsadm-restore accepts).
    /// </summary>
    public static string Save(IReadOnlyList<IpvsTableEntry> table, bool thresholds = false)
    {
        var text = new StringBuilder();
        foreach (var entry in Sorted(table))
        {
            var service = entry.Service;
            var name = RuleName(service);
            text.Append("-A ").Append(name).Append(" -s ").Append(service.Scheduler);
            if (service.Flags.HasFlag(IpvsServiceFlags.Persistent))
            {
                text.Append(CultureInfo.InvariantCulture, $" -p {service.PersistenceTimeout}");
                var mask = NetmaskText(service);
                if (mask is not null)
                {
                    text.Append(" -M ").Append(mask);
                }
            }
            if (!string.IsNullOrEmpty(service.PersistenceEngine))
            {
                text.Append(" --pe ").Append(service.PersistenceEngine);
            }
            if (service.Flags.HasFlag(IpvsServiceFlags.OnePacket))
            {
                text.Append(" -o");
            }
            // ipvsadm 1.31 writes the scheduler flags last.
            var schedulerFlags = SchedulerFlags(service);
            if (schedulerFlags.Length > 0)
            {
                text.Append(" -b ").Append(schedulerFlags);
            }
            text.Append('\n');
            foreach (var d in SortedDestinations(entry.Destinations))
            {
                text.Append(CultureInfo.InvariantCulture, $"-a {name} -r {AddressPort(d.Address, d.Port)} {ForwardSwitch(d.ForwardMethod)} -w {d.Weight}");
                if (thresholds && d.UpperThreshold != 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $" -x {d.UpperThreshold}");
                }
                if (thresholds && d.LowerThreshold != 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $" -y {d.LowerThreshold}");
                }
                if (d.ForwardMethod == IpvsForwardMethod.Tunnel)
                {
                    text.Append(" --tun-type ").Append(d.TunnelType switch
                    {
                        IpvsTunnelType.Gue => "gue",
                        IpvsTunnelType.Gre => "gre",
                        _ => "ipip",
                    });
                    if (d.TunnelType == IpvsTunnelType.Gue)
                    {
                        text.Append(CultureInfo.InvariantCulture, $" --tun-port {d.TunnelPort}");
                    }
                    if (d.TunnelType is IpvsTunnelType.Gue or IpvsTunnelType.Gre)
                    {
                        text.Append(d.TunnelFlags.HasFlag(IpvsTunnelFlags.Checksum) ? " --tun-csum"
                            : d.TunnelFlags.HasFlag(IpvsTunnelFlags.RemoteChecksum) ? " --tun-remcsum"
                            : " --tun-nocsum");
                    }
                }
                text.Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary><c>ipvsadm -Ln --timeout</c>.</summary>
    public static string Timeouts(IpvsTimeouts timeouts) =>
        $"Timeout (tcp tcpfin udp): {timeouts.Tcp} {timeouts.TcpFin} {timeouts.Udp}\n";

    /// <summary><c>ipvsadm -Ln --daemon</c>.</summary>
    public static string Daemons(IReadOnlyList<IpvsSyncDaemon> daemons)
    {
        var text = new StringBuilder();
        foreach (var d in daemons.OrderBy(d => d.State))
        {
            text.Append(CultureInfo.InvariantCulture, $"{(d.State == IpvsSyncState.Master ? "master" : "backup")} sync daemon (mcast={d.Interface}, syncid={d.SyncId}");
            if (d.MaxLength is { } maxLength)
            {
                text.Append(CultureInfo.InvariantCulture, $", maxlen={maxLength}");
            }
            if (d.MulticastGroup is { } group)
            {
                text.Append(CultureInfo.InvariantCulture, $", group={group}");
            }
            if (d.MulticastPort is { } port)
            {
                text.Append(CultureInfo.InvariantCulture, $", port={port}");
            }
            if (d.MulticastTtl is { } ttl)
            {
                text.Append(CultureInfo.InvariantCulture, $", ttl={ttl}");
            }
            text.Append(")\n");
        }
        return text.ToString();
    }

    /// <summary>The services in ipvsadm's order: fwmark, family, protocol, address, port.</summary>
    public static IEnumerable<IpvsTableEntry> Sorted(IReadOnlyList<IpvsTableEntry> table)
    {
        var sorted = table.ToList();
        sorted.Sort((a, b) => CompareServices(a.Service, b.Service));
        return sorted;
    }

    public static IEnumerable<IpvsDestination> SortedDestinations(IReadOnlyList<IpvsDestination> destinations)
    {
        var sorted = destinations.ToList();
        sorted.Sort(CompareDestinations);
        return sorted;
    }

    // ipvsadm compares with C subtraction of unsigned values converted to int; the same wrap-around is kept here
    // so that the order matches for addresses more than 2^31 apart.
    private static int CompareServices(IpvsService a, IpvsService b)
    {
        var r = unchecked((int)(a.FirewallMark - b.FirewallMark));
        if (r != 0) return r;
        r = (ushort)a.Family - (ushort)b.Family;
        if (r != 0) return r;
        r = (ushort)a.Protocol - (ushort)b.Protocol;
        if (r != 0) return r;
        r = CompareAddresses(a.Address, b.Address);
        if (r != 0) return r;
        return a.Port - b.Port;
    }

    private static int CompareDestinations(IpvsDestination a, IpvsDestination b)
    {
        var r = (ushort)a.Family - (ushort)b.Family;
        if (r != 0) return r;
        r = CompareAddresses(a.Address, b.Address);
        if (r != 0) return r;
        return a.Port - b.Port;
    }

    private static int CompareAddresses(IPAddress? a, IPAddress? b)
    {
        if (a is null || b is null)
        {
            return 0;
        }
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, out var lengthA);
        b.TryWriteBytes(y, out var lengthB);
        var words = Math.Min(lengthA, lengthB) / 4;
        var r = 0;
        for (var i = 0; r == 0 && i < words; i++)
        {
            r = unchecked((int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(x[(i * 4)..])
                - System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(y[(i * 4)..])));
        }
        return r;
    }

    private static string ListName(IpvsService service) => service.IsFirewallMark
        ? service.Family == IpvsAddressFamily.IPv6 ? $"FWM  {service.FirewallMark} IPv6" : $"FWM  {service.FirewallMark}"
        : $"{ProtocolName(service.Protocol),-4} {AddressPort(service.Address, service.Port)}";

    private static string RuleName(IpvsService service) => service.IsFirewallMark
        ? service.Family == IpvsAddressFamily.IPv6 ? $"-f {service.FirewallMark} -6" : $"-f {service.FirewallMark}"
        : service.Protocol switch
        {
            IpvsProtocol.Tcp => "-t ",
            IpvsProtocol.Udp => "-u ",
            IpvsProtocol.Sctp => "--sctp-service ",
            _ => $"--protocol {(ushort)service.Protocol} ",
        } + AddressPort(service.Address, service.Port);

    internal static string ServiceOptions(IpvsService service)
    {
        var text = new StringBuilder(service.Scheduler);
        var schedulerFlags = SchedulerFlags(service);
        if (schedulerFlags.Length > 0)
        {
            text.Append(" (").Append(schedulerFlags).Append(')');
        }
        if (service.Flags.HasFlag(IpvsServiceFlags.Persistent))
        {
            text.Append(CultureInfo.InvariantCulture, $" persistent {service.PersistenceTimeout}");
            var mask = NetmaskText(service);
            if (mask is not null)
            {
                text.Append(" mask ").Append(mask);
            }
        }
        if (!string.IsNullOrEmpty(service.PersistenceEngine))
        {
            text.Append(" pe ").Append(service.PersistenceEngine);
        }
        if (service.Flags.HasFlag(IpvsServiceFlags.OnePacket))
        {
            text.Append(" ops");
        }
        return text.ToString();
    }

    private static string? NetmaskText(IpvsService service)
    {
        var mask = service.EffectiveNetmask;
        if (service.Family == IpvsAddressFamily.IPv6)
        {
            return mask == 128 ? null : mask.ToString(CultureInfo.InvariantCulture);
        }
        return mask == 0xFFFFFFFF ? null : $"{mask >> 24}.{(mask >> 16) & 0xFF}.{(mask >> 8) & 0xFF}.{mask & 0xFF}";
    }

    /// <summary>ipvsadm's names for the scheduler flags: sh-fallback,sh-port for sh, mh-… for mh, flag-N otherwise.</summary>
    public static string SchedulerFlags(IpvsService service)
    {
        var names = new List<string>(3);
        var prefix = service.Scheduler is "sh" or "mh" ? service.Scheduler : null;
        if (service.Flags.HasFlag(IpvsServiceFlags.Scheduler1))
        {
            names.Add(prefix is null ? "flag-1" : $"{prefix}-fallback");
        }
        if (service.Flags.HasFlag(IpvsServiceFlags.Scheduler2))
        {
            names.Add(prefix is null ? "flag-2" : $"{prefix}-port");
        }
        if (service.Flags.HasFlag(IpvsServiceFlags.Scheduler3))
        {
            names.Add("flag-3");
        }
        return string.Join(',', names);
    }

    private static string ProtocolName(IpvsProtocol protocol) => protocol switch
    {
        IpvsProtocol.Tcp => "TCP",
        IpvsProtocol.Udp => "UDP",
        IpvsProtocol.Sctp => "SCTP",
        _ => "?",
    };

    internal static string ForwardName(IpvsForwardMethod method) => method switch
    {
        IpvsForwardMethod.Masquerade => "Masq",
        IpvsForwardMethod.Local => "Local",
        IpvsForwardMethod.Tunnel => "Tunnel",
        IpvsForwardMethod.DirectRoute => "Route",
        _ => "Bypass",
    };

    private static string ForwardSwitch(IpvsForwardMethod method) => method switch
    {
        IpvsForwardMethod.Masquerade => "-m",
        IpvsForwardMethod.Tunnel => "-i",
        _ => "-g",
    };

    private static string AddressPort(IPAddress? address, ushort port) => address is null
        ? $"0.0.0.0:{port}"
        : address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    // ipvsadm's print_largenum: 9 columns, K/M/G/T beyond 8 digits unless --exact.
    private static void Numbers(StringBuilder text, bool exact, params ReadOnlySpan<ulong> values)
    {
        foreach (var value in values)
        {
            if (exact)
            {
                var digits = value.ToString(CultureInfo.InvariantCulture);
                text.Append(digits.PadLeft(digits.Length <= 8 ? 9 : digits.Length + 1));
            }
            else if (value < 100_000_000UL)
            {
                text.Append(value.ToString(CultureInfo.InvariantCulture).PadLeft(9));
            }
            else if (value < 1_000_000_000UL)
            {
                text.Append((value / 1000).ToString(CultureInfo.InvariantCulture).PadLeft(8)).Append('K');
            }
            else if (value < 100_000_000_000UL)
            {
                text.Append((value / 1_000_000).ToString(CultureInfo.InvariantCulture).PadLeft(8)).Append('M');
            }
            else if (value < 100_000_000_000_000UL)
            {
                text.Append((value / 1_000_000_000).ToString(CultureInfo.InvariantCulture).PadLeft(8)).Append('G');
            }
            else
            {
                text.Append((value / 1_000_000_000_000).ToString(CultureInfo.InvariantCulture).PadLeft(8)).Append('T');
            }
        }
    }
}
