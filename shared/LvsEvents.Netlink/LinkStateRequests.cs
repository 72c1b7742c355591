using System.Buffers.Binary;
using static LvsEvents.Netlink.AddressMessage;
using static LvsEvents.Netlink.NetlinkSocket;

namespace LvsEvents.Netlink;

/// <summary>
/// Takes an interface administratively down or up through rtnetlink (RTM_NEWLINK changing only IFF_UP), as
/// <c>ip link set DEV down|up</c> does, without a process: the change is made while the request is sent.
/// Resolved in the namespace the socket was opened in.
/// </summary>
public static class LinkStateRequests
{
    private const uint IffUp = 0x1;

    /// <summary>
    /// The index of <paramref name="interfaceName"/> (RTM_GETLINK). <paramref name="operation"/> is what a failure
    /// names (e.g. "adding 10.0.0.100/24 to eth0: No such device"); by default the lookup itself.
    /// </summary>
    public static int IndexOf(NetlinkSocket socket, string interfaceName, string? operation = null)
    {
        operation ??= $"looking up {interfaceName}";
        foreach (var (type, payload) in socket.Request(seq => EncodeGetLink(NlmFRequest | NlmFAck, seq, interfaceName), operation))
        {
            if (type == RtmNewLink)
                return LinkIndex(payload);
        }
        throw new IOException($"{operation}: the kernel acknowledged the lookup of {interfaceName} without describing it");
    }

    /// <summary>Sets or clears IFF_UP on interface <paramref name="index"/> and waits for the kernel's ack.</summary>
    public static void SetUp(NetlinkSocket socket, int index, bool up)
        => socket.Request(seq => Encode(seq, index, up), $"setting link {index} {(up ? "up" : "down")}");

    /// <summary>RTM_NEWLINK: nlmsghdr, then ifinfomsg with ifi_change = IFF_UP so that no other flag moves.</summary>
    public static byte[] Encode(uint sequence, int index, bool up)
    {
        var message = new byte[HeaderLength + IfInfoMsgLength];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), RtmNewLink);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), NlmFRequest | NlmFAck);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), sequence);
        var info = message.AsSpan(HeaderLength);
        // ifi_family AF_UNSPEC, ifi_type 0, then ifi_index, ifi_flags, ifi_change.
        BinaryPrimitives.WriteInt32LittleEndian(info[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(info[8..], up ? IffUp : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(info[12..], IffUp);
        return message;
    }
}
