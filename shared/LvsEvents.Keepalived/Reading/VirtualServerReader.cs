using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads a virtual_server block and its real servers.</summary>
internal sealed class VirtualServerReader(StatementValues values)
{
    private static readonly HashSet<string> Schedulers = new(StringComparer.Ordinal)
    {
        "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
    };

    private static readonly HashSet<string> Documented = new(StringComparer.Ordinal)
    {
        "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "ops", "snmp_name",
        "ip_family", "sorry_server_lvs_method",
    };

    private readonly RealServerReader _realServers = new(values);

    public VirtualServer? Read(ConfigurationNode node)
    {
        var server = ReadHeader(node);
        if (server is null)
        {
            return null;
        }

        values.ExpectBlock(node);
        double? connectTimeout = null, delayBeforeRetry = null, warmup = null;
        int? retry = null;
        var other = new List<PassThroughSetting>();
        var realServerNodes = new List<ConfigurationNode>();
        var persistenceGranularityNode = (ConfigurationNode?)null;
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "delay_loop":
                    server = server with { DelayLoop = values.Seconds(item, 0.000001, 86400) ?? server.DelayLoop };
                    break;
                case "lb_algo" or "lvs_sched":
                    var scheduler = values.Argument(item);
                    if (scheduler is null)
                    {
                        break;
                    }

                    if (!Schedulers.Contains(scheduler.Text))
                    {
                        values.Diagnostics.Error(scheduler.Location, $"{item.Keyword} '{scheduler.Text}' is not one of {string.Join('|', Schedulers)}");
                        break;
                    }

                    server = server with { Scheduler = scheduler.Text };
                    break;
                case "lb_kind" or "lvs_method":
                    server = server with { ForwardingMethod = ReadForwardingMethod(item) ?? server.ForwardingMethod };
                    break;
                case "persistence_timeout":
                    server = server with
                    {
                        PersistenceTimeout = item.Arguments.Count == 0 ? 360 : values.Integer(item, 1, int.MaxValue) ?? server.PersistenceTimeout,
                    };
                    break;
                case "persistence_granularity":
                    persistenceGranularityNode = item;
                    server = server with { PersistenceGranularity = values.String(item) };
                    break;
                case "persistence_engine":
                    server = server with { PersistenceEngine = values.String(item) };
                    break;
                case "protocol":
                    var protocol = values.Argument(item);
                    if (protocol is null)
                    {
                        break;
                    }

                    if (protocol.Text.ToUpperInvariant() is not ("TCP" or "UDP" or "SCTP"))
                    {
                        values.Diagnostics.Error(protocol.Location, $"protocol '{protocol.Text}' is not TCP, UDP or SCTP");
                        break;
                    }

                    server = server with { Protocol = protocol.Text.ToUpperInvariant() };
                    break;
                case "sorry_server":
                    var address = values.IpAddress(item);
                    int? port = item.Arguments.Count > 1 ? values.Port(item.Arguments[1], "sorry_server port") : null;
                    if (address is not null)
                    {
                        server = server with { SorryServer = new SorryServer { Address = address, Port = port, Location = item.Location } };
                    }

                    break;
                case "sorry_server_inhibit":
                    server = server with { SorryServerInhibit = true };
                    break;
                case "quorum":
                    server = server with { Quorum = values.Integer(item, 1, int.MaxValue) ?? server.Quorum };
                    break;
                case "hysteresis":
                    server = server with { Hysteresis = values.Integer(item, 0, int.MaxValue) ?? server.Hysteresis };
                    break;
                case "alpha":
                    server = server with { Alpha = true };
                    break;
                case "omega":
                    server = server with { Omega = true };
                    break;
                case "inhibit_on_failure":
                    server = server with { InhibitOnFailure = values.Boolean(item) ?? false };
                    break;
                case "ha_suspend":
                    server = server with { HaSuspend = true };
                    break;
                case "virtualhost":
                    server = server with { Virtualhost = values.String(item) };
                    break;
                case "quorum_up":
                    server = server with { QuorumUp = values.Script(item) };
                    break;
                case "quorum_down":
                    server = server with { QuorumDown = values.Script(item) };
                    break;
                case "smtp_alert":
                    server = server with { SmtpAlert = values.Boolean(item) };
                    break;
                case "connect_timeout":
                    connectTimeout = values.Seconds(item, 0.000001, 86400);
                    break;
                case "retry" or "nb_get_retry":
                    retry = values.Integer(item, 0, int.MaxValue);
                    break;
                case "delay_before_retry":
                    delayBeforeRetry = values.Seconds(item, 0, 86400);
                    break;
                case "warmup":
                    warmup = values.Seconds(item, 0, 86400);
                    break;
                case "real_server":
                    realServerNodes.Add(item);
                    break;
                default:
                    if (HealthCheckerReader.CheckerKeywords.Contains(item.Keyword))
                    {
                        values.Diagnostics.Error(item.Location, $"{item.Keyword} must be inside a real_server block");
                    }
                    else if (!Documented.Contains(item.Keyword))
                    {
                        values.UnknownKeyword(item, "virtual_server");
                    }

                    other.Add(StatementValues.PassThrough(item));
                    break;
            }
        }

        // Real servers inherit settings from anywhere in the virtual server block, so read them last.
        var defaults = new CheckerDefaults(connectTimeout, retry, delayBeforeRetry, warmup, server.DelayLoop, server.Alpha ? true : null, server.Virtualhost);
        var realServers = new List<RealServer>();
        foreach (var realServerNode in realServerNodes)
        {
            var realServer = _realServers.Read(realServerNode, server, defaults);
            if (realServer is null)
            {
                continue;
            }

            if (realServers.Any(r => r.Address == realServer.Address && r.Port == realServer.Port))
            {
                values.Diagnostics.Error(realServer.Location, $"real_server {realServer.Endpoint} is defined twice in virtual_server {server.Key}");
                continue;
            }

            realServers.Add(realServer);
        }

        server = server with { RealServers = realServers, OtherSettings = other };
        Check(server, persistenceGranularityNode);
        return server;
    }

    private void Check(VirtualServer server, ConfigurationNode? granularityNode)
    {
        var diagnostics = values.Diagnostics;
        if (server.Protocol is null && server.Kind != VirtualServerKind.Fwmark)
        {
            diagnostics.Warning(server.Location, $"virtual_server {server.Key} has no protocol; keepalived defaults to UDP");
        }

        if (server.Kind == VirtualServerKind.Fwmark && server.Protocol is not null)
        {
            diagnostics.Warning(server.Location, $"virtual_server {server.Key}: protocol is ignored for a fwmark service");
        }

        if (server.Kind != VirtualServerKind.Address)
        {
            // keepalived cannot tell here whether a group holds fwmarks, so it warns for every group; so do we.
            foreach (var realServer in server.RealServers.Where(r => r.Port is not null))
            {
                diagnostics.Warning(realServer.Location, $"real_server {realServer.Endpoint}: a port on a real server of a fwmark/group virtual server is ignored for fwmark traffic");
            }
        }

        // DR and TUN forward the packet unchanged, so the real server cannot listen on another port.
        foreach (var realServer in server.RealServers.Where(r => server.Kind == VirtualServerKind.Address
                     && r.ForwardingMethod != ForwardingMethod.Nat && r.Port is not null && server.Port is not null && r.Port != server.Port))
        {
            diagnostics.Warning(realServer.Location, $"real_server {realServer.Endpoint}: port differs from virtual_server port {server.Port} with {(realServer.ForwardingMethod == ForwardingMethod.DirectRouting ? "DR" : "TUN")}; keepalived resets it");
        }

        if (server.RealServers.Count == 0)
        {
            diagnostics.Warning(server.Location, $"virtual_server {server.Key} has no real_server; keepalived ignores it");
        }

        if (server.Kind == VirtualServerKind.Address && server.Port is null && server.PersistenceTimeout is null)
        {
            diagnostics.Error(server.Location, $"virtual_server {server.Address} has no port; the port may only be omitted for a persistent service");
        }

        if (granularityNode is not null && server.PersistenceGranularity is { } granularity)
        {
            var ipv6 = server.Address is not null && StatementValues.IsIpv6(server.Address);
            var valid = ipv6
                ? int.TryParse(granularity, out var length) && length is >= 1 and <= 128
                : IsIpv4Netmask(granularity) || (server.Kind != VirtualServerKind.Address && int.TryParse(granularity, out var l) && l is >= 1 and <= 128);
            if (!valid)
            {
                diagnostics.Error(granularityNode.Arguments[0].Location, ipv6
                    ? $"persistence_granularity '{granularity}' is not an IPv6 prefix length (1..128)"
                    : $"persistence_granularity '{granularity}' is not an IPv4 netmask (e.g. 255.255.255.0)");
            }

            if (server.PersistenceTimeout is null)
            {
                diagnostics.Warning(granularityNode.Location, "persistence_granularity has no effect without persistence_timeout");
            }
        }

        if (server.Hysteresis >= server.Quorum && server.Hysteresis > 0)
        {
            diagnostics.Warning(server.Location, $"virtual_server {server.Key}: hysteresis {server.Hysteresis} is not below quorum {server.Quorum}");
        }
    }

    private static bool IsIpv4Netmask(string text)
    {
        if (!StatementValues.TryParseAddress(text, out var normalized) || StatementValues.IsIpv6(normalized))
        {
            return false;
        }

        var bytes = System.Net.IPAddress.Parse(normalized).GetAddressBytes();
        var mask = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
        var inverted = ~mask;
        return (inverted & (inverted + 1)) == 0;
    }

    private VirtualServer? ReadHeader(ConfigurationNode node)
    {
        var first = values.Argument(node);
        if (first is null)
        {
            return null;
        }

        switch (first.Text)
        {
            case "fwmark":
                var markToken = values.Argument(node, 1);
                if (markToken is null)
                {
                    return null;
                }

                var mark = values.Integer(markToken, "virtual_server fwmark", 1, int.MaxValue);
                return mark is null ? null : new VirtualServer { Kind = VirtualServerKind.Fwmark, Fwmark = mark, Location = node.Location };
            case "group":
                var group = values.Argument(node, 1);
                return group is null ? null : new VirtualServer { Kind = VirtualServerKind.Group, GroupName = group.Text, Location = node.Location };
        }

        var address = values.IpAddress(first, "virtual_server");
        if (address is null)
        {
            return null;
        }

        int? port = null;
        if (node.Arguments.Count > 1)
        {
            port = values.Port(node.Arguments[1], "virtual_server port");
            if (port is null)
            {
                return null;
            }
        }

        values.ExtraArguments(node, 2);
        return new VirtualServer { Kind = VirtualServerKind.Address, Address = address, Port = port, Location = node.Location };
    }

    public ForwardingMethod? ReadForwardingMethod(ConfigurationNode item)
    {
        var method = values.Argument(item);
        switch (method?.Text)
        {
            case null:
                return null;
            case "NAT":
                return ForwardingMethod.Nat;
            case "DR":
                return ForwardingMethod.DirectRouting;
            case "TUN":
                return ForwardingMethod.Tunnel;
            default:
                values.Diagnostics.Error(method.Location, $"{item.Keyword} '{method.Text}' is not NAT, DR or TUN");
                return null;
        }
    }
}
