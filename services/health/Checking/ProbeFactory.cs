using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using LvsEvents.Health.State;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.Health.Checking;

/// <summary>Turns a checker of the configuration into the probe that runs it against its real server.</summary>
public static class ProbeFactory
{
    /// <summary>The probe, or null with the reason when the configuration does not say enough to probe.</summary>
    public static IProbe? Create(GlobalDefinitions global, VirtualServer service, RealServer server, HealthChecker checker, out string? problem)
    {
        problem = null;
        var timing = CheckerTiming.Of(checker);
        if (checker is MiscCheck misc)
        {
            if (string.IsNullOrWhiteSpace(misc.Path))
            {
                problem = "MISC_CHECK without misc_path";
                return null;
            }

            return new MiscProbe(misc.Path, timing.ConnectTimeout, misc.Dynamic);
        }

        var addressText = checker.ConnectIp ?? server.Address;
        if (!IPAddress.TryParse(addressText, out var address))
        {
            problem = $"'{addressText}' is not an IP address";
            return null;
        }

        IPAddress? bind = null;
        if (checker.BindTo is { } bindText && !IPAddress.TryParse(bindText, out bind))
        {
            problem = $"bindto '{bindText}' is not an IP address";
            return null;
        }

        var port = checker.ConnectPort ?? server.Port ?? service.Port ?? checker switch
        {
            DnsCheck => 53,
            SmtpCheck => 25,
            PingCheck => 0,
            _ => -1,
        };
        if (port < 0)
        {
            problem = $"{checker.Keyword} of {server.Address} has no port (set connect_port)";
            return null;
        }

        var target = new ProbeTarget(new IPEndPoint(address, port), bind, checker.BindPort, timing.ConnectTimeout);
        switch (checker)
        {
            case SslGetCheck or HttpGetCheck:
                var http = (HttpGetCheck)checker;
                var tls = checker is SslGetCheck;
                var virtualHost = http.Virtualhost ?? server.Virtualhost ?? service.Virtualhost;
                var urls = http.Urls.Count == 0
                    ? [new HttpUrlCheck("/", new StatusCodeSet([]), null, virtualHost, null, false)]
                    : http.Urls.Select(u => new HttpUrlCheck(
                        u.Path ?? "/",
                        new StatusCodeSet(u.StatusCodes),
                        u.Digest,
                        u.Virtualhost ?? virtualHost,
                        u.Regex is null ? null : new Regex(u.Regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)),
                        u.RegexNoMatch)).ToList();
                var sni = checker is SslGetCheck { EnableSni: true } ? virtualHost : null;
                return new HttpProbe(target, urls, tls, sni, http.HttpProtocol ?? "1.0");
            case TcpCheck:
                return new TcpProbe(target);
            case UdpCheck udp:
                return new UdpProbe(target, Hex(udp.Payload), udp.RequireReply, udp.RequiredReply is null ? null : Hex(udp.RequiredReply), udp.MinReplyLength, udp.MaxReplyLength);
            case DnsCheck dns:
                return new DnsProbe(target, dns.Type, dns.Name);
            case PingCheck:
                return new PingProbe(target);
            case SmtpCheck smtp:
                return new SmtpProbe(target, smtp.HeloName ?? global.SmtpHeloName ?? "localhost");
            default:
                problem = $"{checker.Keyword} is not supported";
                return null;
        }
    }

    /// <summary>keepalived writes UDP_CHECK payloads in hexadecimal.</summary>
    private static byte[] Hex(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        return digits.Length % 2 == 0 && digits.All(Uri.IsHexDigit)
            ? Convert.FromHexString(digits)
            : System.Text.Encoding.ASCII.GetBytes(text);
    }

    internal static string Format(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);
}
