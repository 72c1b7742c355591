using System.Net;
using LvsEvents.Vrrp.Protocol;

namespace LvsEvents.Vrrp.Transport;

/// <summary>
/// One received protocol-112 datagram: the VRRP message and the IP facts the RFC checks need, and when the kernel
/// took it off the wire (SO_TIMESTAMPNS, wall clock), when it said so.
/// </summary>
public sealed record VrrpPacket(
    ReadOnlyMemory<byte> Payload,
    IPAddress Source,
    IPAddress Destination,
    byte TimeToLive,
    byte TypeOfService,
    string InterfaceName,
    int InterfaceIndex,
    DateTimeOffset? KernelReceivedAt = null)
{
    /// <summary>A kernel timestamp older than this is not believed (a clock step, not a queue that long).</summary>
    public static readonly TimeSpan MaximumBelievedAge = TimeSpan.FromSeconds(1);

    public ReceivedIpHeader IpHeader => new(Source, Destination, TimeToLive);

    /// <summary>
    /// When the packet arrived on <paramref name="now"/>'s clock: <paramref name="now"/> less the packet's age by the
    /// kernel's timestamp (<paramref name="wallClockNow"/> − <see cref="KernelReceivedAt"/>), so that the master-down
    /// timer runs from the arrival and not from whenever a thread got to read it. Without a timestamp, or with one
    /// in the future or older than <see cref="MaximumBelievedAge"/> (the wall clock stepped), it is <paramref name="now"/>.
    /// </summary>
    public DateTimeOffset ArrivedAt(DateTimeOffset now, DateTimeOffset wallClockNow)
    {
        if (KernelReceivedAt is not { } stamp)
            return now;
        var age = wallClockNow - stamp;
        return age < TimeSpan.Zero || age > MaximumBelievedAge ? now : now - age;
    }
}
