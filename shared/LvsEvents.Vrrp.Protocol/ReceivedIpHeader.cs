using System.Net;
using System.Net.Sockets;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>
/// What the receiving socket knows about the IPv4 header an advert came in: the codec never parses IP
/// headers, the raw-socket edge does and passes these facts in.
/// </summary>
public readonly record struct ReceivedIpHeader
{
    public ReceivedIpHeader(IPAddress source, IPAddress destination, byte timeToLive)
    {
        // A non-IPv4 address here is a caller bug, not packet content: fail loudly.
        if (source.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("VRRP over IPv4 needs an IPv4 source.", nameof(source));
        if (destination.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("VRRP over IPv4 needs an IPv4 destination.", nameof(destination));
        Source = source;
        Destination = destination;
        TimeToLive = timeToLive;
    }

    public IPAddress Source { get; }
    public IPAddress Destination { get; }
    public byte TimeToLive { get; }

    /// <summary>224.0.0.18, the VRRP multicast group (RFC 3768 §5.2.2, RFC 5798 §5.1.1.2).</summary>
    public static readonly IPAddress VrrpMulticastGroup = IPAddress.Parse("224.0.0.18");

    /// <summary>VRRP adverts leave with TTL 255 and receivers drop anything else (they cannot have been routed).</summary>
    public const byte RequiredTimeToLive = 255;
}
