using System.Net;
using LvsEvents.Vrrp.Protocol;

namespace LvsEvents.Vrrp.Transport.Tests;

/// <summary>Two of our sockets on the lab LAN: what the kernel puts on the wire for us.</summary>
public sealed class VrrpSocketLabTests : IDisposable
{
    private readonly NetworkLab _lab = new();
    private readonly LabNode _a;
    private readonly LabNode _b;

    public VrrpSocketLabTests()
    {
        _a = _lab.AddNode("a", 1);
        _b = _lab.AddNode("b", 2);
    }

    public void Dispose() => _lab.Dispose();

    [Theory(Timeout = 10_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Our_adverts_arrive_with_ttl_255_tos_0xc0_from_our_address_and_pass_validation(bool unicast)
    {
        using var sender = _a.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        using var receiver = _b.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        var vip = _lab.Address(100);
        var advert = VrrpAdvertisement.CreateV3(9, 150, 10, [vip]);
        var destination = unicast ? _b.Address : VrrpSocket.MulticastGroup;

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var received = receiver.ReceiveAsync(timeout.Token).AsTask();
        // A first send can race the receive being posted; the raw socket queues it anyway, so one send is enough.
        await sender.SendAsync(advert, unicast ? _b.Address : null, timeout.Token);
        var packet = await received;

        Assert.Equal(_a.Address, packet.Source);
        Assert.Equal(destination, packet.Destination);
        Assert.Equal(255, packet.TimeToLive);
        Assert.Equal(VrrpSocket.NetworkControlTos, packet.TypeOfService);
        var validation = new AdvertisementValidator(new AdvertisementExpectations
        {
            Version = VrrpVersion.V3,
            VirtualRouterId = 9,
            AdvertisementInterval = TimeSpan.FromMilliseconds(100),
            VirtualAddresses = [vip],
        }).Validate(packet.Payload.Span, packet.IpHeader);
        // v3 checksums the pseudo-header, so this also proves the source we encoded for is the one sent.
        Assert.True(validation.IsAccepted, $"rejected: {validation.RejectReason}");
        Assert.Equal(150, validation.Advertisement!.Priority);
    }

    [Fact(Timeout = 10_000)]
    public async Task Our_own_multicast_adverts_do_not_loop_back()
    {
        using var socket = _a.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        using var peer = _b.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        var advert = VrrpAdvertisement.CreateV3(9, 150, 10, [_lab.Address(100)]);

        using var own = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var ownReceive = socket.ReceiveAsync(own.Token).AsTask();
        var peerReceive = peer.ReceiveAsync(CancellationToken.None).AsTask();
        await socket.SendAsync(advert);
        // The peer gets it (so it was sent); the sender, listening on the same group, must not.
        Assert.Same(peerReceive, await Task.WhenAny(peerReceive, Task.Delay(TimeSpan.FromSeconds(5))));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ownReceive);
    }
}
