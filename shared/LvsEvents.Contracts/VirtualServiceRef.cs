using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LvsEvents.Contracts;

/// <summary>
/// A virtual service as keepalived names it: an address, port and protocol, or a firewall mark, or a
/// virtual_server_group. Printed (and serialized) as <c>TCP/192.168.1.100:80</c>, <c>TCP/[2001:db8::1]:80</c>,
/// <c>FWM/1</c> or <c>GROUP/name</c>, with <c>/UDP</c> or <c>/SCTP</c> after a mark or group of that protocol.
/// </summary>
[JsonConverter(typeof(VirtualServiceRefJsonConverter))]
public sealed record VirtualServiceRef(string Protocol, string Address, int Port, uint? FirewallMark = null, string? Group = null)
{
    // The printed form, made once: every probe result event carries it, thousands a second.
    private string? _text;

    // `with` must not copy the printed form of the original.
    private VirtualServiceRef(VirtualServiceRef original)
    {
        Protocol = original.Protocol;
        Address = original.Address;
        Port = original.Port;
        FirewallMark = original.FirewallMark;
        Group = original.Group;
    }

    public static VirtualServiceRef Tcp(string address, int port) => new("TCP", address, port);

    // By value, without the cached printed form.
    public bool Equals(VirtualServiceRef? other) =>
        ReferenceEquals(this, other)
        || (other is not null && Protocol == other.Protocol && Address == other.Address && Port == other.Port
            && FirewallMark == other.FirewallMark && Group == other.Group);

    public override int GetHashCode() => HashCode.Combine(Protocol, Address, Port, FirewallMark, Group);

    public static VirtualServiceRef ForFirewallMark(uint mark, string protocol = "TCP") => new(protocol, "", 0, mark);

    public override string ToString() => _text ??= Print();

    private string Print()
    {
        var protocolSuffix = Protocol == "TCP" ? "" : "/" + Protocol;
        return Group is not null ? $"GROUP/{Group}{protocolSuffix}"
            : FirewallMark is { } mark ? $"FWM/{mark.ToString(CultureInfo.InvariantCulture)}{protocolSuffix}"
            : $"{Protocol}/{Endpoint.Format(Address, Port)}";
    }

    /// <summary>Reads the printed form back.</summary>
    public static VirtualServiceRef Parse(string text)
    {
        var parts = text.Split('/', 3);
        if (parts.Length >= 2 && parts[0] is "FWM" or "GROUP")
        {
            var protocol = parts.Length == 3 ? parts[2] : "TCP";
            return parts[0] == "FWM"
                ? uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var mark)
                    ? new VirtualServiceRef(protocol, "", 0, mark)
                    : throw new FormatException($"'{text}' has no valid firewall mark")
                : new VirtualServiceRef(protocol, "", 0, Group: parts[1]);
        }

        if (parts.Length == 2 && Endpoint.TryParse(parts[1], out var address, out var port))
        {
            return new VirtualServiceRef(parts[0], address, port);
        }

        throw new FormatException($"'{text}' is not a virtual service (TCP/address:port, FWM/mark or GROUP/name)");
    }
}

/// <summary>A real server of one virtual service. Printed as <c>TCP/192.168.1.100:80-&gt;192.168.1.20:80</c>.</summary>
[JsonConverter(typeof(RealServerRefJsonConverter))]
public sealed record RealServerRef(VirtualServiceRef VirtualService, string Address, int Port)
{
    private const string Arrow = "->";

    // The printed form, made once (see VirtualServiceRef).
    private string? _text;

    private RealServerRef(RealServerRef original)
    {
        VirtualService = original.VirtualService;
        Address = original.Address;
        Port = original.Port;
    }

    public bool Equals(RealServerRef? other) =>
        ReferenceEquals(this, other)
        || (other is not null && VirtualService == other.VirtualService && Address == other.Address && Port == other.Port);

    public override int GetHashCode() => HashCode.Combine(VirtualService, Address, Port);

    public override string ToString() => _text ??= $"{VirtualService}{Arrow}{Endpoint.Format(Address, Port)}";

    public static RealServerRef Parse(string text)
    {
        var arrow = text.LastIndexOf(Arrow, StringComparison.Ordinal);
        if (arrow > 0 && Endpoint.TryParse(text[(arrow + Arrow.Length)..], out var address, out var port))
        {
            return new RealServerRef(VirtualServiceRef.Parse(text[..arrow]), address, port);
        }

        throw new FormatException($"'{text}' is not a real server (virtual service->address:port)");
    }
}

/// <summary><c>address:port</c>, with IPv6 addresses in brackets.</summary>
internal static class Endpoint
{
    public static string Format(string address, int port) =>
        address.Contains(':') ? $"[{address}]:{port.ToString(CultureInfo.InvariantCulture)}" : $"{address}:{port.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string text, out string address, out int port)
    {
        var colon = text.LastIndexOf(':');
        address = colon > 0 ? text[..colon].Trim('[', ']') : "";
        return int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) && address.Length > 0;
    }
}

/// <summary>Virtual services travel as their printed form: short, and readable in the store.</summary>
internal sealed class VirtualServiceRefJsonConverter : JsonConverter<VirtualServiceRef>
{
    public override VirtualServiceRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Parse(reader.GetString(), VirtualServiceRef.Parse);

    public override void Write(Utf8JsonWriter writer, VirtualServiceRef value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());

    internal static T Parse<T>(string? text, Func<string, T> parse)
    {
        try
        {
            return parse(text ?? throw new JsonException("expected a string"));
        }
        catch (FormatException e)
        {
            throw new JsonException(e.Message, e);
        }
    }
}

/// <summary>Real servers travel as their printed form.</summary>
internal sealed class RealServerRefJsonConverter : JsonConverter<RealServerRef>
{
    public override RealServerRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        VirtualServiceRefJsonConverter.Parse(reader.GetString(), RealServerRef.Parse);

    public override void Write(Utf8JsonWriter writer, RealServerRef value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
