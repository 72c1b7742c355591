using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads the checker blocks of a real_server.</summary>
internal sealed class HealthCheckerReader(StatementValues values)
{
    public static readonly HashSet<string> CheckerKeywords = new(StringComparer.Ordinal)
    {
        "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "SMTP_CHECK",
    };

    /// <summary>Checkers keepalived has that this model keeps as pass-through settings.</summary>
    public static readonly HashSet<string> PassThroughCheckers = new(StringComparer.Ordinal) { "BFD_CHECK", "FILE_CHECK" };

    private static readonly HashSet<string> DocumentedCommon = new(StringComparer.Ordinal) { "log_all_failures" };

    public HealthChecker Read(ConfigurationNode node, CheckerDefaults defaults)
    {
        values.ExpectBlock(node);
        HealthChecker checker = node.Keyword switch
        {
            "TCP_CHECK" => new TcpCheck { Location = node.Location },
            "HTTP_GET" => new HttpGetCheck { Location = node.Location },
            "SSL_GET" => new SslGetCheck { Location = node.Location },
            "MISC_CHECK" => new MiscCheck { Location = node.Location },
            "DNS_CHECK" => new DnsCheck { Location = node.Location },
            "UDP_CHECK" => new UdpCheck { Location = node.Location },
            "PING_CHECK" => new PingCheck { Location = node.Location },
            _ => new SmtpCheck { Location = node.Location },
        };

        double? connectTimeout = null, delayBeforeRetry = null, warmup = null, delayLoop = null;
        int? retry = null;
        bool? alpha = null;
        var other = new List<PassThroughSetting>();
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "connect_ip":
                    checker = checker with { ConnectIp = values.IpAddress(item) };
                    continue;
                case "connect_port":
                    checker = checker with { ConnectPort = values.Integer(item, 1, 65535) };
                    continue;
                case "bindto":
                    checker = checker with { BindTo = values.IpAddress(item) };
                    continue;
                case "bind_if":
                    checker = checker with { BindInterface = values.String(item) };
                    continue;
                case "bind_port":
                    checker = checker with { BindPort = values.Integer(item, 1, 65535) };
                    continue;
                case "fwmark":
                    checker = checker with { Fwmark = values.Long(item, 0, uint.MaxValue) };
                    continue;
                case "connect_timeout":
                    connectTimeout = values.Seconds(item, 0.000001, 86400);
                    continue;
                case "retry" or "nb_get_retry":
                    if (item.Keyword == "nb_get_retry")
                    {
                        values.Diagnostics.Warning(item.Location, "nb_get_retry is deprecated; use retry");
                    }

                    retry = values.Integer(item, 0, int.MaxValue);
                    continue;
                case "delay_before_retry":
                    delayBeforeRetry = values.Seconds(item, 0, 86400);
                    continue;
                case "warmup":
                    warmup = values.Seconds(item, 0, 86400);
                    continue;
                case "delay_loop":
                    delayLoop = values.Seconds(item, 0.000001, 86400);
                    continue;
                case "alpha":
                    alpha = values.Boolean(item);
                    continue;
                case "log_all_failures":
                    checker = checker with { LogAllFailures = values.Boolean(item) };
                    continue;
            }

            checker = ReadSpecific(checker, item, other);
        }

        var effectiveDelayLoop = delayLoop ?? defaults.DelayLoop;
        var typeRetry = checker switch { DnsCheck => 3, MiscCheck => 0, _ => 1 };
        var typeDelayBeforeRetry = checker switch { HttpGetCheck => 3, DnsCheck => effectiveDelayLoop, _ => 1 };
        checker = checker with
        {
            ConnectTimeout = connectTimeout ?? defaults.ConnectTimeout ?? 5,
            Retry = retry ?? defaults.Retry ?? typeRetry,
            DelayBeforeRetry = delayBeforeRetry ?? defaults.DelayBeforeRetry ?? typeDelayBeforeRetry,
            DelayLoop = effectiveDelayLoop,
            Warmup = warmup ?? defaults.Warmup ?? effectiveDelayLoop,
            Alpha = alpha ?? defaults.Alpha,
            OtherSettings = other,
        };

        if (checker is HttpGetCheck http)
        {
            if (http.Urls.Count == 0)
            {
                values.Diagnostics.Error(node.Location, $"{node.Keyword} has no url {{ ... }} to check");
            }

            checker = http with { Virtualhost = http.Virtualhost ?? defaults.Virtualhost };
        }

        if (checker is MiscCheck { Path: null })
        {
            values.Diagnostics.Error(node.Location, "MISC_CHECK has no misc_path");
        }

        return checker;
    }

    private HealthChecker ReadSpecific(HealthChecker checker, ConfigurationNode item, List<PassThroughSetting> other)
    {
        switch (checker, item.Keyword)
        {
            case (HttpGetCheck http, "url"):
                return http with { Urls = http.Urls.Append(ReadUrl(item)).ToList() };
            case (HttpGetCheck http, "http_protocol"):
                var protocol = values.String(item);
                if (protocol is not null and not ("1.0" or "1.0C" or "1.1"))
                {
                    values.Diagnostics.Error(item.Arguments[0].Location, $"http_protocol '{protocol}' is not 1.0, 1.0C or 1.1");
                }

                return http with { HttpProtocol = protocol };
            case (HttpGetCheck http, "fast_recovery"):
                return http with { FastRecovery = values.Boolean(item) ?? false };
            case (HttpGetCheck http, "virtualhost"):
                return http with { Virtualhost = values.String(item) };
            case (SslGetCheck ssl, "enable_sni"):
                return ssl with { EnableSni = true };
            case (MiscCheck misc, "misc_path"):
                return misc with { Path = values.RestOfLine(item) };
            case (MiscCheck misc, "misc_timeout"):
                return misc with { Timeout = values.Integer(item, 1, int.MaxValue) };
            case (MiscCheck misc, "misc_dynamic"):
                return misc with { Dynamic = true };
            case (MiscCheck misc, "user"):
                return misc with { User = values.String(item), Group = item.Arguments.Count > 1 ? item.Arguments[1].Text : null };
            case (DnsCheck dns, "type"):
                var type = values.String(item);
                if (type is not null && type.ToUpperInvariant() is not ("A" or "NS" or "CNAME" or "SOA" or "MX" or "TXT" or "AAAA"))
                {
                    values.Diagnostics.Error(item.Arguments[0].Location, $"DNS_CHECK type '{type}' is not A, NS, CNAME, SOA, MX, TXT or AAAA");
                    return dns;
                }

                return type is null ? dns : dns with { Type = type.ToUpperInvariant() };
            case (DnsCheck dns, "name"):
                return dns with { Name = values.String(item) ?? dns.Name };
            case (UdpCheck udp, "payload"):
                return udp with { Payload = values.RestOfLine(item) };
            case (UdpCheck udp, "require_reply"):
                return udp with
                {
                    RequireReply = true,
                    RequiredReply = item.Arguments.Count > 0 ? string.Join(' ', item.Arguments.Select(a => a.Text)) : null,
                };
            case (UdpCheck udp, "min_reply_length"):
                return udp with { MinReplyLength = values.Integer(item, 0, 65535) ?? udp.MinReplyLength };
            case (UdpCheck udp, "max_reply_length"):
                return udp with { MaxReplyLength = values.Integer(item, 0, 65535) ?? udp.MaxReplyLength };
            case (SmtpCheck smtp, "helo_name"):
                return smtp with { HeloName = values.String(item) };
            default:
                if (!DocumentedCommon.Contains(item.Keyword))
                {
                    values.UnknownKeyword(item, checker.Keyword);
                }

                other.Add(StatementValues.PassThrough(item));
                return checker;
        }
    }

    private HttpUrl ReadUrl(ConfigurationNode node)
    {
        values.ExpectBlock(node);
        var url = new HttpUrl { Location = node.Location };
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "path":
                    url = url with { Path = values.String(item) };
                    break;
                case "digest":
                    var digest = values.String(item);
                    if (digest is not null && (digest.Length != 32 || !digest.All(char.IsAsciiHexDigit)))
                    {
                        values.Diagnostics.Error(item.Arguments[0].Location, $"digest '{digest}' is not a 32-digit hexadecimal MD5");
                    }

                    url = url with { Digest = digest };
                    break;
                case "status_code":
                    var codes = new List<string>();
                    foreach (var code in item.Arguments)
                    {
                        var parts = code.Text.Split('-');
                        if (parts.Length > 2 || parts.Any(p => !int.TryParse(p, out var n) || n < 100 || n > 599))
                        {
                            values.Diagnostics.Error(code.Location, $"status_code '{code.Text}' is not a code or range within 100..599");
                            continue;
                        }

                        codes.Add(code.Text);
                    }

                    if (item.Arguments.Count == 0)
                    {
                        values.Diagnostics.Error(item.Location, "'status_code' is missing a value");
                    }

                    url = url with { StatusCodes = codes.Count > 0 ? codes : url.StatusCodes };
                    break;
                case "virtualhost":
                    url = url with { Virtualhost = values.String(item) };
                    break;
                case "regex":
                    url = url with { Regex = values.RestOfLine(item) };
                    break;
                case "regex_no_match":
                    url = url with { RegexNoMatch = true };
                    break;
                case "regex_options" or "regex_stack" or "regex_min_offset" or "regex_max_offset":
                    break;
                default:
                    values.UnknownKeyword(item, "url");
                    break;
            }
        }

        if (url.Path is null)
        {
            values.Diagnostics.Error(node.Location, "url has no path");
        }

        return url;
    }
}
