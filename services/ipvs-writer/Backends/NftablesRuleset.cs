using System.Globalization;
using System.Text;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// The nftables form of the table, in a table of our own (<c>ip lvsevents</c>):
/// <code>
/// map services { type ipv4_addr . inet_proto . inet_service : verdict }   VIP . proto . port → jump s_…
/// map fwmarks  { type mark : verdict }                                     mark → jump s_fwm_…
/// chain prerouting/output (nat, dstnat): ip daddr . meta l4proto . th dport vmap @services; meta mark vmap @fwmarks
/// chain s_tcp_10_0_0_1_80: meta l4proto tcp counter dnat to numgen random mod 6 map { 0-2 : 10.1.0.1 . 80, 3-4 : … } comment "lvs s=wrr"
///                           meta l4proto tcp dnat to 10.1.0.1:80 comment "lvs-fallback"   (only when the lookup misses mid-commit)
/// set   s_tcp_10_0_0_1_80_q { type ipv4_addr . inet_service }             destinations held with weight 0
/// </code>
/// Weighted schedulers become weighted random (numgen random, one range per destination, range width = weight);
/// <c>sh</c> and persistent services hash the source address (jhash ip saddr), so a client stays on one server while
/// the set of destinations is unchanged. A service without a weighted destination drops new connections (as IPVS does
/// when it has no destination). The rule's comment keeps the IPVS settings nftables has no place for.
/// </summary>
public static class NftablesRuleset
{
    public const string Family = "ip";
    public const string TableName = "lvsevents";
    public const string ServicesMap = "services";
    public const string MarksMap = "fwmarks";
    public const string CommentPrefix = "lvs ";
    private const string T = Family + " " + TableName;
    private const string ServicesMapType = "ipv4_addr . inet_proto . inet_service : verdict";
    private const string MarksMapType = "mark : verdict";
    private const string IdleSetType = "ipv4_addr . inet_service";

    public static string ChainName(ServiceKey key) => key.IsFirewallMark
        ? $"s_fwm_{key.FirewallMark.ToString(CultureInfo.InvariantCulture)}_{key.Protocol.ToLowerInvariant()}"
        : $"s_{key.Protocol.ToLowerInvariant()}_{key.Address.Replace('.', '_').Replace(':', '_')}_{key.Port.ToString(CultureInfo.InvariantCulture)}";

    public static string IdleSetName(ServiceKey key) => ChainName(key) + "_q";

    /// <summary>The comment of a service chain's second rule (see <see cref="FallbackOf"/>).</summary>
    public const string FallbackComment = "lvs-fallback";

    /// <summary>
    /// The destination of a service chain's second rule, a plain <c>dnat to</c> without a map. Replacing the rule
    /// releases its anonymous weight map in the same transaction, and a packet that entered the chain just before the
    /// commit looks that map up with the new generation's mask: its elements are already gone, the lookup misses, and
    /// without this rule the connection would reach the director's own stack and be refused (measured: a few per
    /// thousand weight changes under load). It is the heaviest destination of the same generation, so the packet goes
    /// where the old table could have sent it. It never runs otherwise: dnat ends the first rule.
    /// </summary>
    public static KernelDestination FallbackOf(IReadOnlyList<KernelDestination> weighted)
    {
        var best = weighted[0];
        foreach (var d in weighted)
        {
            if (d.Weight > best.Weight)
            {
                best = d;
            }
        }

        return best;
    }

    /// <summary>Uses the hash of the source address (persistence) rather than a random pick.</summary>
    public static bool UsesSourceHash(KernelService service) => service.Scheduler == "sh" || service.PersistenceTimeout is not null;

    /// <summary>Why nftables cannot program the service, or null.</summary>
    public static string? Unsupported(KernelService service)
    {
        if (service.Key.IsIPv6)
        {
            return $"{service.Key}: IPv6 virtual services need the IPVS backend (the nftables table is ip only)";
        }

        // One pass: this runs for every service of every desired table.
        var total = 0L;
        bool? portless = null;
        foreach (var d in service.Destinations.Values)
        {
            if (d.Method != ForwardingMethod.Nat)
            {
                return $"{service.Key}: real server {d.Key} uses {d.MethodName}; the nftables backend does NAT only (lb_kind NAT), use IPVS for DR/TUN";
            }

            if (d.UpperThreshold != 0 || d.LowerThreshold != 0)
            {
                return $"{service.Key}: real server {d.Key} has uthreshold/lthreshold, which the nftables backend cannot enforce";
            }

            if (d.Key.Address.Contains(':'))
            {
                return $"{service.Key}: real server {d.Key} is IPv6; the nftables table is ip only";
            }

            if (portless is { } p && p != (d.Key.Port == 0))
            {
                return $"{service.Key}: real servers mix port and no port; nftables needs one form per service";
            }

            portless = d.Key.Port == 0;
            total += d.Weight;
        }

        return total > int.MaxValue ? $"{service.Key}: total weight exceeds {int.MaxValue}" : null;
    }

    /// <summary>The whole table as one transaction: create-if-missing, delete, rebuild. Atomic: all or nothing.</summary>
    public static string Replace(KernelTable table)
    {
        var text = new StringBuilder();
        text.Append("add table ").Append(T).Append('\n');
        text.Append("delete table ").Append(T).Append('\n');
        Base(text);
        foreach (var service in table.Services.Values)
        {
            Service(text, service, fresh: true);
        }

        return text.ToString();
    }

    /// <summary>The table's skeleton: maps and the two nat hooks.</summary>
    public static void Base(StringBuilder text)
    {
        text.Append("add table ").Append(T).Append('\n');
        text.Append("add map ").Append(T).Append(' ').Append(ServicesMap).Append(" { type ").Append(ServicesMapType).Append("; }\n");
        text.Append("add map ").Append(T).Append(' ').Append(MarksMap).Append(" { type ").Append(MarksMapType).Append("; }\n");
        foreach (var hook in (string[])["prerouting", "output"])
        {
            text.Append("add chain ").Append(T).Append(' ').Append(hook).Append(" { type nat hook ").Append(hook).Append(" priority -100; policy accept; }\n");
            text.Append("add rule ").Append(T).Append(' ').Append(hook).Append(" ip daddr . meta l4proto . th dport vmap @").Append(ServicesMap).Append('\n');
            text.Append("add rule ").Append(T).Append(' ').Append(hook).Append(" meta mark vmap @").Append(MarksMap).Append('\n');
        }
    }

    /// <summary>
    /// Commands that make one service what <paramref name="service"/> says: its chain refilled, its idle set, and (for
    /// a new service) its dispatch element. <paramref name="fresh"/>: the service is not in the kernel yet.
    /// Elements are always given inside <c>add set</c>/<c>add map</c> declarations rather than as <c>add element</c>:
    /// nft then needs no element cache, which on a 10,000-destination table is the difference between ~1 ms and
    /// ~60 ms per change.
    /// </summary>
    public static void Service(StringBuilder text, KernelService service, bool fresh)
    {
        var chain = ChainName(service.Key);
        var idle = IdleSetName(service.Key);
        if (fresh)
        {
            text.Append("add chain ").Append(T).Append(' ').Append(chain).Append('\n');
        }
        else
        {
            text.Append("flush chain ").Append(T).Append(' ').Append(chain).Append('\n');
            text.Append("flush set ").Append(T).Append(' ').Append(idle).Append('\n');
        }

        text.Append("add set ").Append(T).Append(' ').Append(idle).Append(" { type ").Append(IdleSetType).Append(';');
        var zero = service.Destinations.Values.Where(d => d.Weight == 0).ToList();
        if (zero.Count > 0)
        {
            text.Append(" elements = { ")
                .AppendJoin(", ", zero.Select(d => $"{d.Key.Address} . {d.Key.Port.ToString(CultureInfo.InvariantCulture)}"))
                .Append(" };");
        }

        text.Append(" }\n");
        text.Append("add rule ").Append(T).Append(' ').Append(chain).Append(' ');
        var weighted = service.Destinations.Values.Where(d => d.Weight > 0).ToList();
        var withPorts = weighted.Any(d => d.Key.Port != 0);
        ProtocolMatch(text, service, withPorts);
        text.Append("counter ");
        if (weighted.Count == 0)
        {
            text.Append("drop");
        }
        else
        {
            var total = weighted.Sum(d => d.Weight);
            text.Append("dnat to ")
                .Append(UsesSourceHash(service) ? "jhash ip saddr mod " : "numgen random mod ")
                .Append(total.ToString(CultureInfo.InvariantCulture))
                .Append(UsesSourceHash(service) ? " seed 0x0" : "")
                .Append(" map { ");
            var start = 0;
            for (var i = 0; i < weighted.Count; i++)
            {
                var d = weighted[i];
                var end = start + d.Weight - 1;
                if (i > 0)
                {
                    text.Append(", ");
                }

                text.Append(start.ToString(CultureInfo.InvariantCulture));
                if (end > start)
                {
                    text.Append('-').Append(end.ToString(CultureInfo.InvariantCulture));
                }

                text.Append(" : ").Append(d.Key.Address);
                if (withPorts)
                {
                    text.Append(" . ").Append(d.Key.Port.ToString(CultureInfo.InvariantCulture));
                }

                start = end + 1;
            }

            text.Append(" }");
        }

        text.Append(" comment \"").Append(Comment(service)).Append("\"\n");
        if (weighted.Count > 0)
        {
            var fallback = FallbackOf(weighted);
            text.Append("add rule ").Append(T).Append(' ').Append(chain).Append(' ');
            ProtocolMatch(text, service, withPorts);
            text.Append("dnat to ").Append(fallback.Key.Address);
            if (withPorts)
            {
                text.Append(':').Append(fallback.Key.Port.ToString(CultureInfo.InvariantCulture));
            }

            text.Append(" comment \"").Append(FallbackComment).Append("\"\n");
        }

        if (fresh)
        {
            var key = service.Key;
            text.Append(key.IsFirewallMark
                ? $"add map {T} {MarksMap} {{ type {MarksMapType}; elements = {{ {key.FirewallMark.ToString(CultureInfo.InvariantCulture)} : jump {chain} }}; }}\n"
                : $"add map {T} {ServicesMap} {{ type {ServicesMapType}; elements = {{ {key.Address} . {key.Protocol.ToLowerInvariant()} . {key.Port.ToString(CultureInfo.InvariantCulture)} : jump {chain} }}; }}\n");
        }
    }

    /// <summary>
    /// <c>meta l4proto P</c>, which both rules of a service chain start with; a fwmark service whose destinations have no
    /// port matches any protocol.
    /// </summary>
    public static bool MatchesProtocol(KernelService service, bool withPorts) => withPorts || !service.Key.IsFirewallMark;

    private static void ProtocolMatch(StringBuilder text, KernelService service, bool withPorts)
    {
        if (MatchesProtocol(service, withPorts))
        {
            text.Append("meta l4proto ").Append(service.Key.Protocol.ToLowerInvariant()).Append(' ');
        }
    }

    /// <summary>Commands that remove one service: its dispatch element, then its chain and idle set.</summary>
    public static void DeleteService(StringBuilder text, ServiceKey key)
    {
        text.Append("delete element ").Append(T).Append(' ').Append(DispatchElement(key, withVerdict: false)).Append('\n');
        text.Append("flush chain ").Append(T).Append(' ').Append(ChainName(key)).Append('\n');
        text.Append("delete chain ").Append(T).Append(' ').Append(ChainName(key)).Append('\n');
        text.Append("delete set ").Append(T).Append(' ').Append(IdleSetName(key)).Append('\n');
    }

    private static string DispatchElement(ServiceKey key, bool withVerdict)
    {
        var verdict = withVerdict ? $" : jump {ChainName(key)}" : "";
        return key.IsFirewallMark
            ? $"{MarksMap} {{ {key.FirewallMark.ToString(CultureInfo.InvariantCulture)}{verdict} }}"
            : $"{ServicesMap} {{ {key.Address} . {key.Protocol.ToLowerInvariant()} . {key.Port.ToString(CultureInfo.InvariantCulture)}{verdict} }}";
    }

    /// <summary><c>lvs s=wrr p=300 m=255.255.255.0</c>: the settings nftables has no field for.</summary>
    public static string Comment(KernelService service)
    {
        var comment = new StringBuilder(CommentPrefix).Append("s=").Append(service.Scheduler);
        if (service.PersistenceTimeout is { } p)
        {
            comment.Append(" p=").Append(p.ToString(CultureInfo.InvariantCulture));
        }

        if (service.PersistenceNetmask is { } m)
        {
            comment.Append(" m=").Append(m);
        }

        return comment.ToString();
    }
}
