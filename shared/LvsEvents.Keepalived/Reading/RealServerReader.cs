using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads a real_server block of a virtual_server.</summary>
internal sealed class RealServerReader(StatementValues values)
{
    private readonly HealthCheckerReader _checkers = new(values);

    public RealServer? Read(ConfigurationNode node, VirtualServer virtualServer, CheckerDefaults inherited)
    {
        var addressToken = values.Argument(node);
        if (addressToken is null)
        {
            return null;
        }

        var address = values.IpAddress(addressToken, "real_server");
        if (address is null)
        {
            return null;
        }

        int? port = null;
        if (node.Arguments.Count > 1)
        {
            port = values.Port(node.Arguments[1], "real_server port");
            if (port is null)
            {
                return null;
            }
        }

        values.ExtraArguments(node, 2);
        var server = new RealServer
        {
            Address = address,
            Port = port,
            ForwardingMethod = virtualServer.ForwardingMethod,
            InhibitOnFailure = virtualServer.InhibitOnFailure,
            Location = node.Location,
        };
        var defaults = inherited;
        var checkerNodes = new List<ConfigurationNode>();
        var other = new List<PassThroughSetting>();
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "weight":
                    server = server with { Weight = values.Integer(item, 0, int.MaxValue) ?? server.Weight };
                    break;
                case "lvs_method" or "lb_kind":
                    var method = new VirtualServerReader(values).ReadForwardingMethod(item);
                    server = server with { ForwardingMethod = method ?? server.ForwardingMethod };
                    break;
                case "inhibit_on_failure":
                    server = server with { InhibitOnFailure = values.Boolean(item) ?? server.InhibitOnFailure };
                    break;
                case "notify_up":
                    server = server with { NotifyUp = values.Script(item) };
                    break;
                case "notify_down":
                    server = server with { NotifyDown = values.Script(item) };
                    break;
                case "uthreshold":
                    server = server with { UpperThreshold = values.Integer(item, 0, int.MaxValue) };
                    break;
                case "lthreshold":
                    server = server with { LowerThreshold = values.Integer(item, 0, int.MaxValue) };
                    break;
                case "smtp_alert":
                    server = server with { SmtpAlert = values.Boolean(item) };
                    break;
                case "virtualhost":
                    server = server with { Virtualhost = values.String(item) };
                    defaults = defaults with { Virtualhost = server.Virtualhost };
                    break;
                case "alpha":
                    defaults = defaults with { Alpha = values.Boolean(item) };
                    break;
                case "connect_timeout":
                    defaults = defaults with { ConnectTimeout = values.Seconds(item, 0.000001, 86400) ?? defaults.ConnectTimeout };
                    break;
                case "retry" or "nb_get_retry":
                    defaults = defaults with { Retry = values.Integer(item, 0, int.MaxValue) ?? defaults.Retry };
                    break;
                case "delay_before_retry":
                    defaults = defaults with { DelayBeforeRetry = values.Seconds(item, 0, 86400) ?? defaults.DelayBeforeRetry };
                    break;
                case "warmup":
                    defaults = defaults with { Warmup = values.Seconds(item, 0, 86400) ?? defaults.Warmup };
                    break;
                case "delay_loop":
                    defaults = defaults with { DelayLoop = values.Seconds(item, 0.000001, 86400) ?? defaults.DelayLoop };
                    break;
                default:
                    if (HealthCheckerReader.CheckerKeywords.Contains(item.Keyword))
                    {
                        checkerNodes.Add(item);
                        break;
                    }

                    if (item.Keyword == "real_server")
                    {
                        values.Diagnostics.Error(item.Location, "real_server cannot be nested inside another real_server");
                    }
                    else if (!HealthCheckerReader.PassThroughCheckers.Contains(item.Keyword) && item.Keyword != "snmp_name")
                    {
                        values.UnknownKeyword(item, "real_server");
                    }

                    other.Add(StatementValues.PassThrough(item));
                    break;
            }
        }

        if (server.UpperThreshold is { } upper && server.LowerThreshold is { } lower && lower > upper)
        {
            values.Diagnostics.Error(node.Location, $"real_server {server.Endpoint}: lthreshold {lower} is above uthreshold {upper}");
        }

        var checkers = checkerNodes.Select(c => _checkers.Read(c, defaults)).ToList();
        return server with { Checkers = checkers, OtherSettings = other };
    }
}
