using System.Globalization;
using System.Net;
using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Desired;

/// <summary>
/// The table the kernel should hold, as a pure function of configuration, health and operator decisions.
/// <list type="bullet">
/// <item>A real server's weight: an operator/recovery override, else the weight a misc_dynamic checker set, else the
/// configured weight.</item>
/// <item>Down: removed, or kept with weight 0 under <c>inhibit_on_failure</c>. Draining: weight 0, removed once the
/// drain finished.</item>
/// <item>Quorum: the health service's decision when one was received, else live weight ≥ <c>quorum</c>. Lost with a
/// <c>sorry_server</c>: the sorry server alone (weight 1). Held with <c>sorry_server_inhibit</c>: the sorry server stays
/// with weight 0.</item>
/// <item>A virtual_server_group becomes one kernel service per member address (ranges and CIDRs expanded) or mark.</item>
/// </list>
/// </summary>
public static class DesiredState
{
    /// <summary>keepalived uses TCP when a virtual_server gives no protocol (and says so).</summary>
    public const string DefaultProtocol = "TCP";

    /// <param name="scope">Only the virtual_server this reference names (an incremental change); null: all of them.</param>
    public static KernelTable Build(KeepalivedConfiguration configuration, HealthView health, WeightOverrides overrides, VirtualServiceRef? scope = null)
    {
        var services = new List<KernelService>();
        foreach (var vs in configuration.VirtualServers)
        {
            var reference = Refs.Normalize(ReferenceOf(vs));
            if (scope is not null && reference != scope)
            {
                continue;
            }

            var destinations = Destinations(vs, reference, health, overrides);
            foreach (var key in KeysOf(vs, configuration))
            {
                services.Add(KernelService.Create(key, vs.Scheduler, vs.PersistenceTimeout, vs.PersistenceGranularity, destinations));
            }
        }

        return KernelTable.Of(services);
    }

    /// <summary>How events name a virtual_server: <c>TCP/10.0.0.1:80</c>, <c>FWM/5</c>, <c>GROUP/name</c>.</summary>
    public static VirtualServiceRef ReferenceOf(VirtualServer vs)
    {
        var protocol = (vs.Protocol ?? DefaultProtocol).ToUpperInvariant();
        return vs.Kind switch
        {
            VirtualServerKind.Fwmark => VirtualServiceRef.ForFirewallMark((uint)(vs.Fwmark ?? 0), protocol),
            VirtualServerKind.Group => new VirtualServiceRef(protocol, "", 0, Group: vs.GroupName),
            _ => new VirtualServiceRef(protocol, vs.Address ?? "", vs.Port ?? 0),
        };
    }

    /// <summary>How events name a real_server: the health service uses its own port, 0 when the block gives none.</summary>
    public static RealServerRef ReferenceOf(VirtualServer vs, RealServer rs) =>
        Refs.Normalize(new RealServerRef(ReferenceOf(vs), rs.Address, rs.Port ?? 0));

    /// <summary>The same real server named with the port the kernel uses (the virtual server's when it has none).</summary>
    public static RealServerRef? KernelReferenceOf(VirtualServer vs, RealServer rs) =>
        rs.Port is null && vs.Port is { } port ? Refs.Normalize(new RealServerRef(ReferenceOf(vs), rs.Address, port)) : null;

    /// <summary>A value given for a real server under either of its names.</summary>
    private static bool TryFind<T>(System.Collections.Immutable.ImmutableDictionary<RealServerRef, T> map, RealServerRef name, RealServerRef? other, out T value)
    {
        value = default!;
        return !map.IsEmpty && (map.TryGetValue(name, out value!) || other is not null && map.TryGetValue(other, out value!));
    }

    private static List<KernelDestination> Destinations(VirtualServer vs, VirtualServiceRef reference, HealthView health, WeightOverrides overrides)
    {
        var live = new List<KernelDestination>();
        var liveWeight = 0L;
        foreach (var rs in vs.RealServers)
        {
            // Events name the server with its own port (0 if none); operators may use the kernel's port.
            var address = Refs.Address(rs.Address);
            var rsRef = new RealServerRef(reference, address, rs.Port ?? 0);
            var kernelRef = rs.Port is null && vs.Port is { } vsPort ? rsRef with { Port = vsPort } : null;
            var key = new DestinationKey(address, rs.Port ?? vs.Port ?? 0);
            var weight = TryFind(overrides.Weights, rsRef, kernelRef, out var w) ? w
                : TryFind(health.DynamicWeights, rsRef, kernelRef, out var dw) ? dw
                : rs.Weight;
            var up = TryFind(health.Health, rsRef, kernelRef, out var state) && state != HealthState.Unknown
                ? state == HealthState.Up
                : !(rs.Checkers.Count > 0 && (vs.Alpha || rs.Checkers.Any(c => c.Alpha == true)));

            if (TryFind(overrides.Drains, rsRef, kernelRef, out var drain))
            {
                if (!drain.Finished && (up || rs.InhibitOnFailure || vs.InhibitOnFailure))
                {
                    live.Add(Destination(key, 0, rs));
                }

                continue;
            }

            if (up)
            {
                live.Add(Destination(key, weight, rs));
                liveWeight += weight;
            }
            else if (rs.InhibitOnFailure || vs.InhibitOnFailure)
            {
                live.Add(Destination(key, 0, rs));
            }
        }

        var quorumUp = health.QuorumUp.TryGetValue(reference, out var decided) ? decided : liveWeight >= vs.Quorum;
        if (vs.SorryServer is { } sorry)
        {
            var sorryKey = new DestinationKey(Refs.Address(sorry.Address), sorry.Port ?? vs.Port ?? 0);
            if (!quorumUp)
            {
                return [new KernelDestination(sorryKey, 1, vs.ForwardingMethod)];
            }

            if (vs.SorryServerInhibit && live.All(d => d.Key != sorryKey))
            {
                live.Add(new KernelDestination(sorryKey, 0, vs.ForwardingMethod));
            }
        }

        return live;
    }

    private static KernelDestination Destination(DestinationKey key, int weight, RealServer rs) =>
        new(key, weight, rs.ForwardingMethod, rs.UpperThreshold ?? 0, rs.LowerThreshold ?? 0);

    private static IEnumerable<ServiceKey> KeysOf(VirtualServer vs, KeepalivedConfiguration configuration)
    {
        var protocol = (vs.Protocol ?? DefaultProtocol).ToUpperInvariant();
        switch (vs.Kind)
        {
            case VirtualServerKind.Fwmark:
                yield return ServiceKey.ForMark((uint)(vs.Fwmark ?? 0), protocol);
                break;
            case VirtualServerKind.Group:
                var group = configuration.VirtualServerGroups.FirstOrDefault(g => g.Name == vs.GroupName);
                foreach (var member in group?.Members ?? [])
                {
                    if (member.Fwmark is { } mark)
                    {
                        yield return ServiceKey.ForMark((uint)mark, protocol);
                        continue;
                    }

                    foreach (var address in ExpandAddresses(member.Address ?? ""))
                    {
                        yield return new ServiceKey(protocol, address, member.Port ?? vs.Port ?? 0);
                    }
                }

                break;
            default:
                yield return new ServiceKey(protocol, Refs.Address(vs.Address ?? ""), vs.Port ?? 0);
                break;
        }
    }

    /// <summary>
    /// A group member's addresses: one address, a keepalived range (<c>10.0.0.1-10</c>: the last octet, or last
    /// IPv6 group, runs to 10) or a CIDR (<c>10.0.0.0/29</c>, at most 256 addresses).
    /// </summary>
    public static IEnumerable<string> ExpandAddresses(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && IPAddress.TryParse(text[..slash], out var network) && int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
            && network.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && prefix is >= 24 and <= 32)
        {
            var bytes = network.GetAddressBytes();
            var size = 1 << (32 - prefix);
            bytes[3] = (byte)(bytes[3] & ~(size - 1));
            for (var i = 0; i < size; i++)
            {
                yield return new IPAddress([bytes[0], bytes[1], bytes[2], (byte)(bytes[3] + i)]).ToString();
            }

            yield break;
        }

        var dash = text.LastIndexOf('-');
        if (dash > 0 && IPAddress.TryParse(text[..dash], out var first) && first.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            && int.TryParse(text[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var last) && last is >= 0 and <= 255)
        {
            var bytes = first.GetAddressBytes();
            for (int i = bytes[3]; i <= last; i++)
            {
                yield return new IPAddress([bytes[0], bytes[1], bytes[2], (byte)i]).ToString();
            }

            yield break;
        }

        yield return Refs.Address(text);
    }
}
