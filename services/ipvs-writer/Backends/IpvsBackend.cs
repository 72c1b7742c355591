using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using LvsEvents.Contracts;
using LvsEvents.Ipvs;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// The table in IPVS, through <c>shared/LvsEvents.Ipvs</c> (generic netlink): a thin adapter that maps the writer's
/// table model to the library's and each <see cref="TableOperation"/> to one netlink request, all sent in one batch.
/// IPVS has no transactions: a refused request leaves the others applied, and the reconciler's retry reads the
/// kernel back. Connections are counted, so a drain ends as soon as a destination has none.
/// </summary>
public sealed class IpvsBackend(IpvsClient client) : IKernelTableBackend
{
    public const string BackendName = "ipvs";

    // IPVS keeps no protocol for a firewall-mark service; remember the one the configuration gave.
    private readonly Dictionary<uint, string> _markProtocols = [];

    public string Name => BackendName;

    public bool ReportsConnections => true;

    public string? Unsupported(KernelService service) => null;

    public Task<KernelTable> ReadAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<IpvsTableEntry> entries;
        try
        {
            entries = client.GetTable();
        }
        catch (IpvsException e)
        {
            throw new KernelTableException(e.Message, e);
        }

        return Task.FromResult(ToTable(entries, _markProtocols));
    }

    public Task ApplyAsync(KernelTable before, IReadOnlyList<TableOperation> operations, KernelTable after, CancellationToken cancellationToken)
    {
        foreach (var service in after.Services.Values.Where(s => s.Key.IsFirewallMark))
        {
            _markProtocols[service.Key.FirewallMark] = service.Key.Protocol;
        }

        var requests = operations.Select(ToOperation).ToList();
        var failures = client.Apply(requests);
        if (failures.Count > 0)
        {
            throw new KernelTableException($"{failures.Count} of {requests.Count} IPVS changes were refused (the others were applied): {string.Join("; ", failures.Take(3).Select(f => f.Message))}");
        }

        return Task.CompletedTask;
    }

    /// <summary>IPVS has no atomic replace: read, diff, apply (never a flush, which would drop traffic in between).</summary>
    public async Task ReplaceAsync(KernelTable table, CancellationToken cancellationToken)
    {
        var actual = await ReadAsync(cancellationToken).ConfigureAwait(false);
        await ApplyAsync(actual, KernelTableDiff.Compute(table, actual), table, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => client.Dispose();

    /// <summary>ipvsadm -Ln's first line, from the kernel: <c>IP Virtual Server version 1.2.1 (size=4096)</c>.</summary>
    public string VersionLine()
    {
        var info = client.GetInfo();
        return $"IP Virtual Server version {info.VersionText} (size={info.ConnectionTableSize.ToString(CultureInfo.InvariantCulture)})";
    }

    public static IpvsOperation ToOperation(TableOperation op)
    {
        var service = ToService((op.ServiceAfter ?? op.ServiceBefore)!);
        return op.Kind switch
        {
            KernelOperation.AddService => IpvsOperation.AddService(service),
            KernelOperation.EditService => IpvsOperation.UpdateService(service),
            KernelOperation.DeleteService => IpvsOperation.DeleteService(ToService(op.ServiceBefore!)),
            KernelOperation.AddDestination => IpvsOperation.AddDestination(service, ToDestination(op.DestinationAfter!)),
            KernelOperation.EditDestination => IpvsOperation.UpdateDestination(service, ToDestination(op.DestinationAfter!)),
            KernelOperation.DeleteDestination => IpvsOperation.DeleteDestination(service, ToDestination(op.DestinationBefore!)),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "not an IPVS operation"),
        };
    }

    public static IpvsService ToService(KernelService service)
    {
        var key = service.Key;
        var result = key.IsFirewallMark
            ? IpvsService.Fwmark(key.FirewallMark, scheduler: service.Scheduler)
            : new IpvsService
            {
                Protocol = key.Protocol switch { "UDP" => IpvsProtocol.Udp, "SCTP" => IpvsProtocol.Sctp, _ => IpvsProtocol.Tcp },
                Address = IPAddress.Parse(key.Address),
                Port = (ushort)key.Port,
                Scheduler = service.Scheduler,
            };
        if (service.PersistenceTimeout is { } timeout)
        {
            result = result.WithPersistence((uint)timeout, ToNetmask(service.PersistenceNetmask));
        }

        return result;
    }

    public static IpvsDestination ToDestination(KernelDestination destination) => new()
    {
        Address = IPAddress.Parse(destination.Key.Address),
        Port = (ushort)destination.Key.Port,
        Weight = destination.Weight,
        ForwardMethod = destination.Method switch
        {
            ForwardingMethod.DirectRouting => IpvsForwardMethod.DirectRoute,
            ForwardingMethod.Tunnel => IpvsForwardMethod.Tunnel,
            _ => IpvsForwardMethod.Masquerade,
        },
        UpperThreshold = (uint)destination.UpperThreshold,
        LowerThreshold = (uint)destination.LowerThreshold,
    };

    public static KernelTable ToTable(IReadOnlyList<IpvsTableEntry> entries, IReadOnlyDictionary<uint, string>? markProtocols = null)
    {
        var services = new List<KernelService>();
        var serviceStatistics = ImmutableDictionary.CreateBuilder<ServiceKey, TrafficStatistics>();
        var destinationStatistics = ImmutableDictionary.CreateBuilder<(ServiceKey, DestinationKey), TrafficStatistics>();
        foreach (var (s, destinations) in entries)
        {
            var key = s.IsFirewallMark
                ? ServiceKey.ForMark(s.FirewallMark, markProtocols?.GetValueOrDefault(s.FirewallMark) ?? "TCP")
                : new ServiceKey(s.Protocol switch { IpvsProtocol.Udp => "UDP", IpvsProtocol.Sctp => "SCTP", _ => "TCP" }, s.Address!.ToString(), s.Port);
            var persistent = s.Flags.HasFlag(IpvsServiceFlags.Persistent);
            var kernelDestinations = new List<KernelDestination>();
            foreach (var d in destinations)
            {
                var dk = new DestinationKey(d.Address.ToString(), d.Port);
                kernelDestinations.Add(new KernelDestination(dk, d.Weight, d.ForwardMethod switch
                {
                    IpvsForwardMethod.DirectRoute => ForwardingMethod.DirectRouting,
                    IpvsForwardMethod.Tunnel => ForwardingMethod.Tunnel,
                    _ => ForwardingMethod.Nat,
                }, (int)d.UpperThreshold, (int)d.LowerThreshold));
                destinationStatistics[(key, dk)] = Statistics(d.Statistics) with { ActiveConnections = d.ActiveConnections, InactiveConnections = d.InactiveConnections };
            }

            services.Add(KernelService.Create(key, s.Scheduler, persistent ? (int)s.PersistenceTimeout : null,
                persistent ? FromNetmask(s) : null, kernelDestinations));
            serviceStatistics[key] = Statistics(s.Statistics);
        }

        return KernelTable.Of(services) with { ServiceStatistics = serviceStatistics.ToImmutable(), DestinationStatistics = destinationStatistics.ToImmutable() };
    }

    private static TrafficStatistics Statistics(IpvsStatistics? s) => s is null
        ? new TrafficStatistics(null)
        : new TrafficStatistics((long)s.Connections, (long)s.InPackets, (long)s.OutPackets, (long)s.InBytes, (long)s.OutBytes);

    /// <summary>"255.255.255.0" → 0xFFFFFF00; an IPv6 prefix length ("64") as is; null for a single address.</summary>
    public static uint? ToNetmask(string? netmask)
    {
        if (netmask is null)
        {
            return null;
        }

        if (IPAddress.TryParse(netmask, out var mask) && mask.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            var b = mask.GetAddressBytes();
            return ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        }

        return uint.TryParse(netmask, NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) ? prefix : null;
    }

    private static string? FromNetmask(IpvsService service) => service.Netmask switch
    {
        null => null,
        var m when service.Family == IpvsAddressFamily.IPv6 => m.Value.ToString(CultureInfo.InvariantCulture),
        var m => new IPAddress([(byte)(m.Value >> 24), (byte)(m.Value >> 16), (byte)(m.Value >> 8), (byte)m.Value]).ToString(),
    };
}
