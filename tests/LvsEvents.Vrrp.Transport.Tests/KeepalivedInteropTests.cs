using System.Diagnostics;
using System.Net;
using LvsEvents.Vrrp.Protocol;

namespace LvsEvents.Vrrp.Transport.Tests;

/// <summary>Our raw transport against Debian's keepalived 2.2.7 on a bridged namespace LAN.</summary>
public sealed class KeepalivedInteropTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(KeepalivedNode.IntervalSeconds);

    // Master_Down_Interval of keepalived's instance: 3 × advert + (256 − priority)/256 × advert.
    private static readonly TimeSpan KeepalivedMasterDown =
        3 * Interval + (256 - KeepalivedNode.Priority) * Interval / 256;

    private readonly NetworkLab _lab = new();
    private readonly LabNode _a;
    private readonly LabNode _b;
    private readonly IPAddress _vip;

    public KeepalivedInteropTests()
    {
        _a = _lab.AddNode("a", 1);
        _b = _lab.AddNode("b", 2);
        _vip = _lab.Address(100);
    }

    public void Dispose() => _lab.Dispose();

    private VrrpSocket OpenOnB() => _b.Run(() => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));

    private VrrpAdvertisement Advert(byte priority, byte vrid = KeepalivedNode.Vrid, string password = KeepalivedNode.Password)
        => VrrpAdvertisement.CreateV2(vrid, priority, KeepalivedNode.IntervalSeconds, [_vip],
            VrrpAuthenticationType.SimpleText, password);

    [Fact(Timeout = 20_000)]
    public async Task Keepalived_master_adverts_are_received_decoded_and_accepted()
    {
        using var socket = OpenOnB();
        using var keepalived = new KeepalivedNode(_a, _vip);
        var validator = new AdvertisementValidator(new AdvertisementExpectations
        {
            Version = VrrpVersion.V2,
            VirtualRouterId = KeepalivedNode.Vrid,
            AdvertisementInterval = Interval,
            VirtualAddresses = [_vip],
            AuthenticationType = VrrpAuthenticationType.SimpleText,
            AuthenticationData = VrrpPassword.ToAuthenticationData(KeepalivedNode.Password),
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        VrrpPacket packet;
        do
        {
            // keepalived also sends gratuitous ARP, but nothing else on this LAN speaks protocol 112.
            packet = await socket.ReceiveAsync(timeout.Token);
        } while (!packet.Source.Equals(_a.Address));

        Assert.Equal(_a.Address, packet.Source);
        Assert.Equal(VrrpSocket.MulticastGroup, packet.Destination);
        Assert.Equal(255, packet.TimeToLive);
        Assert.Equal("eth0", packet.InterfaceName);
        Assert.Equal(socket.InterfaceIndex, packet.InterfaceIndex);

        var validation = validator.Validate(packet.Payload.Span, packet.IpHeader);
        Assert.True(validation.IsAccepted, $"rejected: {validation.RejectReason}");
        var advert = validation.Advertisement!;
        Assert.Equal(KeepalivedNode.Vrid, advert.VirtualRouterId);
        Assert.Equal(KeepalivedNode.Priority, advert.Priority);
        Assert.Equal(VrrpAuthenticationType.SimpleText, advert.AuthenticationType);
        Assert.Equal(Interval, advert.AdvertisementInterval);
        Assert.Equal([_vip], advert.Addresses);

        // And it is byte for byte what our encoder makes of the same advert.
        Assert.Equal(Advert(KeepalivedNode.Priority).Encode(_a.Address, VrrpSocket.MulticastGroup), packet.Payload.ToArray());
        await keepalived.WaitUntilMaster(TimeSpan.FromSeconds(5));
    }

    [Fact(Timeout = 20_000)]
    public async Task Keepalived_yields_the_vip_to_our_higher_priority_and_takes_it_back_after_master_down_interval()
    {
        using var socket = OpenOnB();
        using var keepalived = new KeepalivedNode(_a, _vip);
        await keepalived.WaitUntilMaster(TimeSpan.FromSeconds(5));

        var lastSent = Stopwatch.StartNew();
        using var sending = new CancellationTokenSource();
        var sender = SendEvery(socket, Advert(200), () => lastSent.Restart(), sending.Token);

        var released = await Poll.Until(() => !keepalived.HoldsVip, 3 * Interval);
        Assert.True(released is not null, $"keepalived kept {_vip} while we advertised priority 200:\n{keepalived.Process.OutputText}");

        // Still backup while we keep advertising: two more intervals.
        var retaken = await Poll.Until(() => keepalived.HoldsVip, 2 * Interval);
        Assert.True(retaken is null, "keepalived took the VIP back while our adverts kept coming");

        await sending.CancelAsync();
        await sender;
        var silentAt = lastSent.Elapsed;
        var back = await Poll.Until(() => keepalived.HoldsVip, KeepalivedMasterDown + 2 * Interval, TimeSpan.FromMilliseconds(20));
        Assert.True(back is not null, $"keepalived did not take {_vip} back after we fell silent:\n{keepalived.Process.OutputText}");
        var silence = silentAt + back!.Value;
        // Not before its master-down timer (started at our last advert) ran out; 100 ms for poll and scheduling.
        Assert.True(silence >= KeepalivedMasterDown - TimeSpan.FromMilliseconds(100),
            $"keepalived took the VIP back {silence.TotalSeconds:F2} s after our last advert, before Master_Down_Interval {KeepalivedMasterDown.TotalSeconds:F2} s");
    }

    [Theory(Timeout = 20_000)]
    [InlineData("wrong password")]
    [InlineData("wrong VRID")]
    public async Task Keepalived_ignores_our_adverts_with_a_wrong_password_or_vrid(string fault)
    {
        using var socket = OpenOnB();
        using var keepalived = new KeepalivedNode(_a, _vip);
        await keepalived.WaitUntilMaster(TimeSpan.FromSeconds(5));

        var (advert, logged) = fault == "wrong password"
            ? (Advert(200, password: "n0tit"), "received an invalid passwd")
            : (Advert(200, vrid: KeepalivedNode.Vrid + 1), $"Unknown VRID({KeepalivedNode.Vrid + 1}) received on interface(eth0)");

        using var sending = new CancellationTokenSource();
        var sender = SendEvery(socket, advert, () => { }, sending.Token);

        // Proof the adverts reached keepalived and were judged: its own log line for the drop.
        var seen = await Poll.Until(() => keepalived.Process.Output.Any(l => l.Contains(logged)), 3 * Interval);
        Assert.True(seen is not null, $"keepalived never logged \"{logged}\":\n{keepalived.Process.OutputText}");

        // A valid advert at priority 200 makes it let go within one interval (see the test above); give it three.
        var lost = await Poll.Until(() => !keepalived.HoldsVip, 3 * Interval);
        Assert.True(lost is null, $"keepalived gave up {_vip} for an advert with a {fault}:\n{keepalived.Process.OutputText}");

        await sending.CancelAsync();
        await sender;
    }

    private static Task SendEvery(VrrpSocket socket, VrrpAdvertisement advert, Action sent, CancellationToken cancellationToken)
        => Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await socket.SendAsync(advert, cancellationToken: cancellationToken);
                    sent();
                    await Task.Delay(Interval, cancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
}
