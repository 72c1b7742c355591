using System.Net;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Protocol;
using LvsEvents.Vrrp.Transport;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// Everything an instance does to the network, behind one seam (as Seesaw keeps its HA state machine apart from
/// its transport): adverts in and out, VIPs on and off, gratuitous ARPs, link state.
/// </summary>
public interface IVrrpInstanceLink : IDisposable
{
    /// <summary>The address our adverts come from (the tie-breaker and the v3 checksum's source).</summary>
    IPAddress SourceAddress { get; }

    ValueTask<VrrpPacket> ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>To 224.0.0.18, or to every unicast peer.</summary>
    ValueTask SendAsync(VrrpAdvertisement advertisement, CancellationToken cancellationToken);

    /// <returns>whether the address was added (false: it was already there).</returns>
    Task<bool> AddAddressAsync(VirtualAddress address, CancellationToken cancellationToken);

    /// <returns>whether the address was removed (false: it was not there).</returns>
    Task<bool> RemoveAddressAsync(VirtualAddress address, CancellationToken cancellationToken);

    Task SendGratuitousArpsAsync(VirtualAddress address, int count, TimeSpan interval, CancellationToken cancellationToken);

    Task<bool> IsLinkUpAsync(string interfaceName, CancellationToken cancellationToken);
}
