using System.Net;

namespace LvsEvents.Netlink;

/// <summary>
/// One connection tracking entry as ctnetlink dumps it: the original tuple (client → what it asked for, e.g. the VIP),
/// the reply's source (after DNAT: the real server that answers), the protocol state and, when the namespace has
/// <c>net.netfilter.nf_conntrack_acct=1</c>, the packet and byte counters of both directions (null otherwise).
/// </summary>
public sealed record ConntrackEntry(
    uint Id,
    byte Protocol,
    IPAddress OriginalSource,
    ushort OriginalSourcePort,
    IPAddress OriginalDestination,
    ushort OriginalDestinationPort,
    IPAddress ReplySource,
    ushort ReplySourcePort,
    uint Status,
    byte? TcpState,
    byte? SctpState,
    ulong? OriginalPackets,
    ulong? OriginalBytes,
    ulong? ReplyPackets,
    ulong? ReplyBytes)
{
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Sctp = 132;

    // enum tcp_conntrack / sctp_conntrack in the kernel's uapi headers.
    private const byte TcpEstablished = 3;
    private const byte SctpEstablished = 4;

    /// <summary>
    /// Counted as IPVS counts: a TCP or SCTP connection in ESTABLISHED is active; everything else (handshake, closing,
    /// TIME_WAIT, every UDP flow) is inactive.
    /// </summary>
    public bool IsActive => Protocol switch
    {
        Tcp => TcpState == TcpEstablished,
        Sctp => SctpState == SctpEstablished,
        _ => false,
    };
}
