using System.Net;

namespace LvsEvents.Vrrp.Transport;

/// <summary>Where one VRRP instance speaks: its interface, and for unicast mode its source and peers.</summary>
public sealed record VrrpSocketOptions
{
    /// <summary>The instance's interface (keepalived's <c>interface</c>); the socket is bound to it.</summary>
    public required string InterfaceName { get; init; }

    /// <summary><c>unicast_src_ip</c>; null lets the kernel choose the interface's primary address.</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary>Join 224.0.0.18 on the interface. Off in pure <c>unicast_peer</c> mode.</summary>
    public bool JoinMulticastGroup { get; init; } = true;
}
