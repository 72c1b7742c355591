using System.Collections.Concurrent;
using System.Net;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Protocol;
using LvsEvents.Vrrp.Transport;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// The real link: a raw protocol-112 socket on the instance's interface, rtnetlink for VIPs and link state,
/// AF_PACKET for gratuitous ARP; all opened in the configured network namespace (or this one).
/// </summary>
public sealed class LinuxVrrpInstanceLink : IVrrpInstanceLink
{
    private readonly VrrpSocket _socket;
    private readonly InterfaceAddresses _addresses;
    private readonly string? _namespace;
    private readonly IReadOnlyList<IPAddress> _unicastPeers;
    private readonly ConcurrentDictionary<string, GratuitousArpSender> _arpSenders = new();

    private LinuxVrrpInstanceLink(VrrpSocket socket, InterfaceAddresses addresses, string? ns, IReadOnlyList<IPAddress> unicastPeers)
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
                return new LinuxVrrpInstanceLink(socket, InterfaceAddresses.Open(), networkNamespace, unicastPeers);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });

    public IPAddress SourceAddress => _socket.SourceAddress;

    public ValueTask<VrrpPacket> ReceiveAsync(CancellationToken cancellationToken) => _socket.ReceiveAsync(cancellationToken);

    public async ValueTask SendAsync(VrrpAdvertisement advertisement, CancellationToken cancellationToken)
    {
        if (_unicastPeers.Count == 0)
        {
            await _socket.SendAsync(advertisement, null, cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (var peer in _unicastPeers)
        {
            await _socket.SendAsync(advertisement, peer, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<bool> AddAddressAsync(VirtualAddress address, CancellationToken cancellationToken) => _addresses.AddAsync(address, cancellationToken);

    public Task<bool> RemoveAddressAsync(VirtualAddress address, CancellationToken cancellationToken) => _addresses.RemoveAsync(address, cancellationToken);

    public Task SendGratuitousArpsAsync(VirtualAddress address, int count, TimeSpan interval, CancellationToken cancellationToken)
    {
        var sender = _arpSenders.GetOrAdd(address.Interface, name => NetworkNamespace.Run(_namespace, () => GratuitousArpSender.Open(name)));
        return sender.SendAsync(address.Address, count, interval, cancellationToken);
    }

    public Task<bool> IsLinkUpAsync(string interfaceName, CancellationToken cancellationToken) => _addresses.IsLinkUpAsync(interfaceName, cancellationToken);

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
