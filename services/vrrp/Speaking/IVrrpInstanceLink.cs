using System.Net;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Protocol;
using LvsEvents.Vrrp.Transport;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// Everything an instance does to the network, behind one seam (as Seesaw keeps its HA state machine apart from
/// its transport): adverts in and out, VIPs on and off, gratuitous ARPs (link state is the speaker's InterfaceLinkWatcher). The protocol path is
/// synchronous on purpose: it runs on the instance's own threads, never waiting for a busy thread pool.
/// </summary>
public interface IVrrpInstanceLink : IDisposable
{
    /// <summary>The address our adverts come from (the tie-breaker and the v3 checksum's source).</summary>
    IPAddress SourceAddress { get; }

    /// <summary>Blocks for the next packet; null after <paramref name="timeout"/>.</summary>
    VrrpPacket? Receive(TimeSpan timeout);

    /// <summary>Whether a packet is waiting to be read (so that a due master-down timer can let it be read first).</summary>
    bool HasPendingPacket();

    /// <summary>To 224.0.0.18, or to every unicast peer.</summary>
    void Send(VrrpAdvertisement advertisement);

    /// <returns>whether the address was added (false: it was already there).</returns>
    bool AddAddress(VirtualAddress address);

    /// <summary>
    /// Until disposed, <see cref="AddAddress"/> runs its whole path against no interface, changes nothing and returns
    /// false: a warm-up of the takeover's code before the first takeover. Only while no real add can happen.
    /// </summary>
    IDisposable RehearseAddressAdds();

    /// <returns>whether the address was removed (false: it was not there).</returns>
    bool RemoveAddress(VirtualAddress address);

    /// <summary>One gratuitous ARP now, on the calling thread (the first of a new master's burst).</summary>
    void SendGratuitousArp(VirtualAddress address);

    Task SendGratuitousArpsAsync(VirtualAddress address, int count, TimeSpan interval, CancellationToken cancellationToken);
}
