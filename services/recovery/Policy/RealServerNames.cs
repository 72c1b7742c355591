using System.Net;
using LvsEvents.Contracts;

namespace LvsEvents.Recovery.Policy;

/// <summary>One name per real server, whatever spelling of its addresses an event used.</summary>
public static class RealServerNames
{
    public static RealServerRef Normalize(RealServerRef r) =>
        new(Normalize(r.VirtualService), Address(r.Address), r.Port);

    public static VirtualServiceRef Normalize(VirtualServiceRef r) =>
        r with { Protocol = r.Protocol.ToUpperInvariant(), Address = Address(r.Address) };

    public static string Address(string address) =>
        address.Length > 0 && IPAddress.TryParse(address, out var ip) ? ip.ToString() : address;

    /// <summary>A real server of a snapshot entry (<c>address:port</c>, IPv6 in brackets).</summary>
    public static RealServerRef? FromEntry(VirtualServiceRef service, string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? Normalize(new RealServerRef(service, endpoint[..colon].Trim('[', ']'), port))
            : null;
    }
}
