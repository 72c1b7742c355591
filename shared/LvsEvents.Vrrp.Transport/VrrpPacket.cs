using System.Net;
using LvsEvents.Vrrp.Protocol;

namespace LvsEvents.Vrrp.Transport;

/// <summary>One received protocol-112 datagram: the VRRP message and the IP facts the RFC checks need.</summary>
public sealed record VrrpPacket(
    ReadOnlyMemory<byte> Payload,
    IPAddress Source,
    IPAddress Destination,
    byte TimeToLive,
    byte TypeOfService,
    string InterfaceName,
    int InterfaceIndex)
{
    public ReceivedIpHeader IpHeader => new(Source, Destination, TimeToLive);
}
