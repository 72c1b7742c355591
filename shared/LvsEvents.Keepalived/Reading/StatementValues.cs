using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>
/// Reads typed values from a statement's arguments, reporting a located error (and returning null) when a value is
/// missing or malformed, with the ranges keepalived enforces.
/// </summary>
internal sealed class StatementValues(DiagnosticBag diagnostics)
{
    public DiagnosticBag Diagnostics { get; } = diagnostics;

    public Token? Argument(ConfigurationNode node, int index = 0)
    {
        if (index < node.Arguments.Count)
        {
            return node.Arguments[index];
        }

        Diagnostics.Error(node.Location, $"'{node.Keyword}' is missing a value");
        return null;
    }

    public string? String(ConfigurationNode node) => Argument(node)?.Text;

    /// <summary>All arguments joined; for values keepalived reads as the rest of the line.</summary>
    public string? RestOfLine(ConfigurationNode node) =>
        node.Arguments.Count == 0 ? Argument(node)?.Text : string.Join(' ', node.Arguments.Select(a => a.Text));

    public int? Integer(ConfigurationNode node, long min, long max, int index = 0)
    {
        var token = Argument(node, index);
        return token is null ? null : Integer(token, node.Keyword, min, max);
    }

    public int? Integer(Token token, string what, long min, long max)
    {
        if (!long.TryParse(token.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Diagnostics.Error(token.Location, $"{what}: '{token.Text}' is not an integer");
            return null;
        }

        if (value < min || value > max)
        {
            Diagnostics.Error(token.Location, $"{what}: {value} is outside {min}..{max}");
            return null;
        }

        return (int)value;
    }

    public long? Long(ConfigurationNode node, long min, long max)
    {
        var token = Argument(node);
        if (token is null)
        {
            return null;
        }

        var text = token.Text;
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok)
        {
            Diagnostics.Error(token.Location, $"{node.Keyword}: '{text}' is not a number");
            return null;
        }

        if (value < min || value > max)
        {
            Diagnostics.Error(token.Location, $"{node.Keyword}: {value} is outside {min}..{max}");
            return null;
        }

        return value;
    }

    /// <summary>A keepalived TIMER: seconds with an optional fraction.</summary>
    public double? Seconds(ConfigurationNode node, double min, double max)
    {
        var token = Argument(node);
        if (token is null)
        {
            return null;
        }

        if (!double.TryParse(token.Text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            || double.IsNaN(value) || double.IsInfinity(value))
        {
            Diagnostics.Error(token.Location, $"{node.Keyword}: '{token.Text}' is not a number of seconds");
            return null;
        }

        if (value < min || value > max)
        {
            Diagnostics.Error(token.Location, $"{node.Keyword}: {token.Text} is outside {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }

        return value;
    }

    /// <summary>&lt;BOOL&gt; with the keyword alone meaning true, as keepalived reads it.</summary>
    public bool? Boolean(ConfigurationNode node)
    {
        if (node.Arguments.Count == 0)
        {
            return true;
        }

        var token = node.Arguments[0];
        switch (token.Text.ToLowerInvariant())
        {
            case "on" or "true" or "yes":
                return true;
            case "off" or "false" or "no":
                return false;
            default:
                Diagnostics.Error(token.Location, $"{node.Keyword}: '{token.Text}' is not one of on|off|true|false|yes|no");
                return null;
        }
    }

    public string? IpAddress(ConfigurationNode node, int index = 0)
    {
        var token = Argument(node, index);
        return token is null ? null : IpAddress(token, node.Keyword);
    }

    public string? IpAddress(Token token, string what)
    {
        if (TryParseAddress(token.Text, out var address))
        {
            return address;
        }

        Diagnostics.Error(token.Location, $"{what}: '{token.Text}' is not a valid IP address");
        return null;
    }

    /// <summary>Dotted quads only, as inet_pton: .NET alone would also take "10.1" or "1234".</summary>
    public static bool TryParseAddress(string text, out string normalized)
    {
        normalized = string.Empty;
        if (!System.Net.IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        if (parsed.AddressFamily == AddressFamily.InterNetwork)
        {
            var parts = text.Split('.');
            if (parts.Length != 4 || parts.Any(p => p.Length == 0 || p.Length > 3 || !p.All(char.IsAsciiDigit)))
            {
                return false;
            }
        }
        else if (parsed.AddressFamily != AddressFamily.InterNetworkV6 || text.Contains('%'))
        {
            return false;
        }

        normalized = parsed.ToString();
        return true;
    }

    public static bool IsIpv6(string address) => address.Contains(':');

    public int? Port(Token token, string what) => Integer(token, what, 1, 65535);

    public ScriptInvocation? Script(ConfigurationNode node)
    {
        var command = Argument(node);
        if (command is null)
        {
            return null;
        }

        return new ScriptInvocation(
            command.Text,
            node.Arguments.Count > 1 ? node.Arguments[1].Text : null,
            node.Arguments.Count > 2 ? node.Arguments[2].Text : null);
    }

    public void ExtraArguments(ConfigurationNode node, int expected)
    {
        if (node.Arguments.Count > expected)
        {
            Diagnostics.Warning(node.Arguments[expected].Location, $"'{node.Keyword}': unexpected extra value '{node.Arguments[expected].Text}'");
        }
    }

    /// <summary>
    /// Keeps an untyped keyword verbatim, except that values of password-like keywords (e.g. in the SSL block) are
    /// dropped for ***: nothing reads them from here, and every output of the model must stay free of secrets.
    /// </summary>
    public static PassThroughSetting PassThrough(ConfigurationNode node) => new()
    {
        Keyword = node.Keyword,
        Arguments = node.Keyword.Contains("pass", StringComparison.OrdinalIgnoreCase)
            ? node.Arguments.Select(_ => SecretValueAttribute.Redacted).ToList()
            : node.Arguments.Select(a => a.Text).ToList(),
        Block = node.Block?.Select(PassThrough).ToList(),
        Location = node.Location,
    };

    /// <summary>Unknown keywords are warnings, as keepalived only logs and skips them.</summary>
    public void UnknownKeyword(ConfigurationNode node, string block) =>
        Diagnostics.Warning(node.Location, $"unknown keyword '{node.Keyword}' in {block}; ignored");

    public void ExpectBlock(ConfigurationNode node)
    {
        if (node.Block is null)
        {
            Diagnostics.Error(node.Location, $"'{node.Keyword}' needs a {{ ... }} block");
        }
    }

    public void UnexpectedBlock(ConfigurationNode node)
    {
        if (node.Block is not null)
        {
            Diagnostics.Error(node.Location, $"'{node.Keyword}' does not take a {{ ... }} block");
        }
    }
}
