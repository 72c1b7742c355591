using System.Globalization;

namespace LvsEvents.Keepalived.Model;

/// <summary>Writes an address and optional port the way ipvsadm does: <c>1.2.3.4:80</c>, <c>[2001:db8::1]:80</c>.</summary>
public static class EndpointFormat
{
    public static string Format(string address, int? port)
    {
        if (port is null)
        {
            return address;
        }

        var host = address.Contains(':') ? $"[{address}]" : address;
        return $"{host}:{port.Value.ToString(CultureInfo.InvariantCulture)}";
    }
}
