using System.Net;
using LvsEvents.Contracts;

namespace LvsEvents.Vrrp.Protocol.Tests;

/// <summary>Fixtures for state-machine tests: a fake clock is just DateTimeOffset values passed in.</summary>
public static class Lab
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    public static readonly IPAddress Us = IPAddress.Parse("10.0.0.10");
    public static readonly IPAddress Vip = IPAddress.Parse("10.0.0.100");
    public static readonly IPAddress Group = ReceivedIpHeader.VrrpMulticastGroup;

    public static IPAddress Peer(int lastOctet) => IPAddress.Parse($"10.0.0.{lastOctet}");

    public static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    public static VrrpInstanceOptions Options(int priority, VrrpVersion version = VrrpVersion.V2, double interval = 1,
        IPAddress? us = null) => new()
        {
            Name = "VI_1",
            VirtualRouterId = 7,
            Version = version,
            Priority = priority,
            AdvertisementInterval = TimeSpan.FromTicks((long)Math.Round(interval * TimeSpan.TicksPerSecond)),
            PrimaryAddress = us ?? Us,
            VirtualAddresses = [Vip],
            AuthenticationType = version == VrrpVersion.V2 ? VrrpAuthenticationType.SimpleText : VrrpAuthenticationType.None,
            AuthenticationPassword = version == VrrpVersion.V2 ? "s3cret" : null,
        };

    public static VrrpInstanceStateMachine Started(VrrpInstanceOptions options, DateTimeOffset? at = null)
    {
        var machine = new VrrpInstanceStateMachine(options);
        machine.Start(at ?? T0);
        return machine;
    }

    /// <summary>The bytes a peer of the same instance would send, through the full receive path.</summary>
    public static VrrpDecision Hear(this VrrpInstanceStateMachine machine, IPAddress from, int priority, DateTimeOffset at,
        double? interval = null)
    {
        var o = machine.Options;
        var seconds = interval ?? o.AdvertisementInterval.TotalSeconds;
        var advert = o.Version == VrrpVersion.V2
            ? VrrpAdvertisement.CreateV2(o.VirtualRouterId, (byte)priority, (byte)seconds, o.VirtualAddresses, o.AuthenticationType, o.AuthenticationPassword)
            : VrrpAdvertisement.CreateV3(o.VirtualRouterId, (byte)priority, (ushort)Math.Round(seconds * 100), o.VirtualAddresses);
        var decision = machine.Receive(advert.Encode(from, Group), new ReceivedIpHeader(from, Group, 255), at);
        Assert.Null(decision.RejectReason);
        return decision;
    }

    public static StateTransition Transition(this VrrpDecision decision) => Assert.Single(decision.OfType<StateTransition>());

    public static Type[] Kinds(this VrrpDecision decision) => decision.Actions.Select(a => a.GetType()).ToArray();

    public static void AssertBecameMaster(this VrrpDecision decision, VrrpTransitionReason reason)
    {
        // The VIPs first (what clients wait for, as keepalived), then the advert, then the gratuitous ARPs that follow it.
        Assert.Equal([typeof(AcquireVirtualAddresses), typeof(SendAdvertisement), typeof(SendGratuitousArps), typeof(StateTransition)], decision.Kinds());
        var t = decision.Transition();
        Assert.Equal(VrrpState.Master, t.To);
        Assert.Equal(reason, t.Reason);
    }
}
