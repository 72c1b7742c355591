using System.Collections.Concurrent;
using System.Net;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Protocol;
using LvsEvents.Vrrp.Transport;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// The real link: a raw protocol-112 socket on the instance's interface, rtnetlink for VIPs (by remembered index),
/// AF_PACKET for gratuitous ARP; all opened in the configured network namespace (or this one).
/// </summary>
public sealed class LinuxVrrpInstanceLink : IVrrpInstanceLink
{
    private readonly VrrpSocket _socket;
    private readonly IndexedInterfaceAddresses _addresses;
    private readonly string? _namespace;
    private readonly IReadOnlyList<IPAddress> _unicastPeers;
    private readonly ConcurrentDictionary<string, GratuitousArpSender> _arpSenders = new();

    private LinuxVrrpInstanceLink(VrrpSocket socket, IndexedInterfaceAddresses addresses, string? ns, IReadOnlyList<IPAddress> unicastPeers)
    {
        _socket = socket;
        _addresses = addresses;
        _namespace = ns;
        _unicastPeers = unicastPeers;
    }

    /// <exception cref="VrrpTransportPermissionException">without CAP_NET_RAW / CAP_NET_ADMIN.</exception>
    public static LinuxVrrpInstanceLink Open(string interfaceName, IPAddress? sourceAddress, IReadOnlyList<IPAddress> unicastPeers, string? networkNamespace)
        => NetworkNamespace.Run(networkNamespace, () =>
        {
            var socket = VrrpSocket.Open(new VrrpSocketOptions
            {
                InterfaceName = interfaceName,
                SourceAddress = sourceAddress,
                JoinMulticastGroup = unicastPeers.Count == 0,
            });
            try
            {
                return new LinuxVrrpInstanceLink(socket, IndexedInterfaceAddresses.Open(), networkNamespace, unicastPeers);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });

    public IPAddress SourceAddress => _socket.SourceAddress;

    public VrrpPacket? Receive(TimeSpan timeout) => _socket.Receive(timeout);

    public bool HasPendingPacket() => _socket.HasPendingPacket();

    public void Send(VrrpAdvertisement advertisement)
    {
        if (_unicastPeers.Count == 0)
        {
            _socket.Send(advertisement);
            return;
        }
        foreach (var peer in _unicastPeers)
        {
            _socket.Send(advertisement, peer);
        }
    }

    public bool AddAddress(VirtualAddress address) => _addresses.Add(address);

    public IDisposable RehearseAddressAdds() => _addresses.Rehearsal();

    public bool RemoveAddress(VirtualAddress address) => _addresses.Remove(address);

    /// <summary>Looks up the VIPs' interface indexes and encodes their adds now, so that becoming master adds each VIP in one netlink round trip.</summary>
    public void PrepareAddresses(IEnumerable<VirtualAddress> addresses) => _addresses.PrepareAdds(addresses);

    /// <summary>Opens the AF_PACKET senders now, so that becoming master does not wait for it.</summary>
    public void PrepareGratuitousArps(IEnumerable<string> interfaces)
    {
        foreach (var name in interfaces.Distinct())
        {
            _arpSenders.GetOrAdd(name, n => NetworkNamespace.Run(_namespace, () => GratuitousArpSender.Open(n)));
        }
    }

    public void SendGratuitousArp(VirtualAddress address) => ArpSender(address).SendNow(address.Address);

    public Task SendGratuitousArpsAsync(VirtualAddress address, int count, TimeSpan interval, CancellationToken cancellationToken)
        => ArpSender(address).SendAsync(address.Address, count, interval, cancellationToken);

    private GratuitousArpSender ArpSender(VirtualAddress address)
        => _arpSenders.GetOrAdd(address.Interface, name => NetworkNamespace.Run(_namespace, () => GratuitousArpSender.Open(name)));

    public void Dispose()
    {
        _socket.Dispose();
        _addresses.Dispose();
        foreach (var sender in _arpSenders.Values)
        {
            sender.Dispose();
        }
    }
}
