using System.Net;
using LvsEvents.Vrrp.Protocol;

namespace LvsEvents.Vrrp.Transport.Tests;

/// <summary>
/// The kernel's receive timestamp (SO_TIMESTAMPNS) on our raw socket, and how an advert's arrival is dated from it:
/// the master-down timer must run from when the advert arrived, not from when a thread got round to reading it.
/// </summary>
public sealed class ReceiveTimestampTests : IDisposable
{
    private readonly NetworkLab _lab = new();
    private readonly LabNode _a;
    private readonly LabNode _b;

    public ReceiveTimestampTests()
    {
        _a = _lab.AddNode("a", 1);
        _b = _lab.AddNode("b", 2);
    }

    public void Dispose() => _lab.Dispose();

    [Fact(Timeout = 10_000)]
    public async Task A_packet_read_late_carries_the_kernels_arrival_time_and_is_dated_by_it()
    {
        using var sender = _a.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        using var receiver = _b.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        var sentAt = DateTimeOffset.UtcNow;
        await sender.SendAsync(VrrpAdvertisement.CreateV3(9, 150, 10, [_lab.Address(100)]));
        // Nobody reads for 300 ms: the packet waits in the socket's queue, as behind a busy receive thread.
        await Task.Delay(300);

        Assert.True(receiver.HasPendingPacket());
        var packet = receiver.Receive(TimeSpan.FromSeconds(2));
        Assert.False(receiver.HasPendingPacket());
        var (now, wallNow) = (DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

        Assert.NotNull(packet);
        var stamp = Assert.NotNull(packet.KernelReceivedAt);
        // Taken on arrival, between the send and the read, and not at the read 300 ms later.
        Assert.InRange(stamp, sentAt - TimeSpan.FromMilliseconds(5), sentAt + TimeSpan.FromMilliseconds(150));
        Assert.True(wallNow - stamp >= TimeSpan.FromMilliseconds(250), $"stamped {(wallNow - stamp).TotalMilliseconds} ms before the read");
        // The arrival on the protocol's clock is that much before its now.
        Assert.Equal(now - (wallNow - stamp), packet.ArrivedAt(now, wallNow));
        // The control messages were parsed, not only the timestamp: the receiving interface came with IP_PKTINFO.
        Assert.Equal(receiver.InterfaceIndex, packet.InterfaceIndex);
        Assert.Equal(_a.Address, packet.Source);
        Assert.Equal(255, packet.TimeToLive);
    }

    [Fact]
    public void Without_a_believable_timestamp_the_arrival_is_now()
    {
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        var wallNow = now + TimeSpan.FromHours(1); // another clock: only the difference to the stamp counts
        VrrpPacket Stamped(DateTimeOffset? at) => new(new byte[8], IPAddress.Loopback, VrrpSocket.MulticastGroup, 255, 0xc0, "eth0", 2, at);

        Assert.Equal(now, Stamped(null).ArrivedAt(now, wallNow));
        Assert.Equal(now - TimeSpan.FromMilliseconds(12), Stamped(wallNow - TimeSpan.FromMilliseconds(12)).ArrivedAt(now, wallNow));
        // From the future, or older than a queue could hold it: the wall clock stepped; the read time is safer.
        Assert.Equal(now, Stamped(wallNow + TimeSpan.FromMilliseconds(1)).ArrivedAt(now, wallNow));
        Assert.Equal(now, Stamped(wallNow - VrrpPacket.MaximumBelievedAge - TimeSpan.FromMilliseconds(1)).ArrivedAt(now, wallNow));
    }

    [Fact]
    public void A_backup_dating_adverts_by_their_arrival_times_out_a_master_down_interval_after_the_arrival()
    {
        // The chain the speaker runs: packet → ArrivedAt → state machine. An advert read 40 ms after it arrived must
        // still put the master-down deadline a Master_Down_Interval after its arrival, not after the read.
        var vip = IPAddress.Parse("10.1.2.100");
        var machine = new VrrpInstanceStateMachine(new VrrpInstanceOptions
        {
            Name = "VI_1", VirtualRouterId = 9, Priority = 100, Version = VrrpVersion.V3,
            AdvertisementInterval = TimeSpan.FromMilliseconds(100), PrimaryAddress = IPAddress.Parse("10.1.2.2"), VirtualAddresses = [vip],
        });
        var start = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        machine.Start(start);
        var master = IPAddress.Parse("10.1.2.1");
        var payload = VrrpAdvertisement.CreateV3(9, 150, 10, [vip]).Encode(master, VrrpSocket.MulticastGroup);
        var wallNow = DateTimeOffset.UtcNow;
        var packet = new VrrpPacket(payload, master, VrrpSocket.MulticastGroup, 255, 0xc0, "eth0", 2, wallNow - TimeSpan.FromMilliseconds(40));
        var readAt = start + TimeSpan.FromSeconds(1);

        var decision = machine.Receive(packet.Payload.Span, packet.IpHeader, packet.ArrivedAt(readAt, wallNow));

        Assert.Null(decision.RejectReason);
        Assert.Equal(readAt - TimeSpan.FromMilliseconds(40) + machine.MasterDownInterval, machine.NextDeadline);
    }
}
