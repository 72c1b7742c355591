using System.Net;

namespace LvsEvents.Vrrp.Protocol.Tests;

public class AdvertisementValidatorTests
{
    private static readonly IPAddress[] Vips = [IPAddress.Parse("10.99.0.100"), IPAddress.Parse("10.99.0.101")];

    /// <summary>The instance keepalived's V2PassPriority100 capture belongs to.</summary>
    private static AdvertisementExpectations V2Instance => new()
    {
        Version = VrrpVersion.V2,
        VirtualRouterId = 51,
        AdvertisementInterval = TimeSpan.FromSeconds(1),
        VirtualAddresses = Vips,
        AuthenticationType = VrrpAuthenticationType.SimpleText,
        AuthenticationData = VrrpPassword.ToAuthenticationData("secret"),
    };

    private static AdvertisementExpectations V3Instance => new()
    {
        Version = VrrpVersion.V3,
        VirtualRouterId = 52,
        AdvertisementInterval = TimeSpan.FromMilliseconds(100),
        VirtualAddresses = [IPAddress.Parse("10.99.0.200")],
    };

    private static readonly ReceivedIpHeader Multicast = new(KeepalivedCaptures.Sender, ReceivedIpHeader.VrrpMulticastGroup, 255);

    private static AdvertisementValidation Check(AdvertisementExpectations expected, VrrpAdvertisement advert, ReceivedIpHeader? ip = null)
    {
        var header = ip ?? Multicast;
        return new AdvertisementValidator(expected).Validate(advert.Encode(header.Source, header.Destination), header);
    }

    private static VrrpAdvertisement V2Advert => VrrpAdvertisement.CreateV2(51, 100, 1, Vips, VrrpAuthenticationType.SimpleText, "secret");
    private static VrrpAdvertisement V3Advert => VrrpAdvertisement.CreateV3(52, 150, 10, [IPAddress.Parse("10.99.0.200")]);

    [Theory]
    [InlineData(KeepalivedCaptures.V2PassPriority100)]
    [InlineData(KeepalivedCaptures.V2PassPriority0)]
    public void Keepalived_v2_adverts_are_accepted(string capture)
    {
        var (payload, ip) = KeepalivedCaptures.Split(capture);
        var result = new AdvertisementValidator(V2Instance).Validate(payload, ip);
        Assert.True(result.IsAccepted, result.RejectReason?.ToString());
        Assert.Equal(51, result.Advertisement!.VirtualRouterId);
    }

    [Fact]
    public void Keepalived_v3_advert_is_accepted_and_priority_zero_is_observed()
    {
        var (payload, ip) = KeepalivedCaptures.Split(KeepalivedCaptures.V3Priority0);
        var result = new AdvertisementValidator(V3Instance).Validate(payload, ip);
        Assert.True(result.IsAccepted);
        Assert.Equal(AdvertisementObservations.PriorityZero, result.Observations);
    }

    [Fact]
    public void Too_short()
        => Assert.Equal(AdvertisementRejectReason.TooShort, new AdvertisementValidator(V2Instance).Validate(new byte[7], Multicast).RejectReason);

    [Fact]
    public void Count_disagreeing_with_length()
    {
        var bytes = V2Advert.Encode(Multicast.Source, Multicast.Destination);
        Assert.Equal(AdvertisementRejectReason.CountLengthMismatch, new AdvertisementValidator(V2Instance).Validate(bytes.AsSpan(0, bytes.Length - 1), Multicast).RejectReason);
        bytes[3] = 3; // says three addresses, carries two
        Assert.Equal(AdvertisementRejectReason.CountLengthMismatch, new AdvertisementValidator(V2Instance).Validate(bytes, Multicast).RejectReason);
    }

    [Theory]
    [InlineData(254)]
    [InlineData(1)]
    [InlineData(64)]
    public void Ttl_other_than_255(byte ttl)
        => Assert.Equal(AdvertisementRejectReason.TtlNot255, Check(V2Instance, V2Advert, new ReceivedIpHeader(KeepalivedCaptures.Sender, ReceivedIpHeader.VrrpMulticastGroup, ttl)).RejectReason);

    [Fact]
    public void Ttl_is_not_checked_in_unicast_mode_as_keepalived_does()
    {
        var routed = new ReceivedIpHeader(KeepalivedCaptures.Sender, IPAddress.Parse("10.99.0.2"), 61);
        Assert.True(Check(V2Instance with { CheckTimeToLive = false }, V2Advert, routed).IsAccepted);
    }

    [Fact]
    public void Version_mismatch_either_way_and_unknown_versions()
    {
        Assert.Equal(AdvertisementRejectReason.VersionMismatch, Check(V2Instance, V3Advert).RejectReason);
        Assert.Equal(AdvertisementRejectReason.VersionMismatch, Check(V3Instance, V2Advert).RejectReason);
        var bytes = V2Advert.Encode(Multicast.Source, Multicast.Destination);
        bytes[0] = 0x41;
        Assert.Equal(AdvertisementRejectReason.VersionMismatch, new AdvertisementValidator(V2Instance).Validate(bytes, Multicast).RejectReason);
    }

    [Fact]
    public void Type_other_than_advertisement_even_with_a_good_checksum()
        => Assert.Equal(AdvertisementRejectReason.NotAnAdvertisement, Check(V2Instance, V2Advert with { Type = 2 }).RejectReason);

    [Fact]
    public void Bad_checksum()
    {
        var bytes = V2Advert.Encode(Multicast.Source, Multicast.Destination);
        bytes[7] ^= 0x01;
        Assert.Equal(AdvertisementRejectReason.ChecksumInvalid, new AdvertisementValidator(V2Instance).Validate(bytes, Multicast).RejectReason);
    }

    [Fact]
    public void V3_checksum_computed_for_another_destination_is_bad()
    {
        var bytes = V3Advert.Encode(Multicast.Source, IPAddress.Parse("10.99.0.2"));
        Assert.Equal(AdvertisementRejectReason.ChecksumInvalid, new AdvertisementValidator(V3Instance).Validate(bytes, Multicast).RejectReason);
    }

    [Fact]
    public void Another_virtual_router()
        => Assert.Equal(AdvertisementRejectReason.VirtualRouterIdMismatch, Check(V2Instance, V2Advert with { VirtualRouterId = 52 }).RejectReason);

    [Fact]
    public void Unknown_auth_type()
        => Assert.Equal(AdvertisementRejectReason.AuthTypeUnknown, Check(V2Instance, V2Advert with { AuthenticationType = (VrrpAuthenticationType)3 }).RejectReason);

    [Fact]
    public void Ipsec_ah_is_recognized_and_rejected()
        => Assert.Equal(AdvertisementRejectReason.AuthenticationHeaderUnsupported, Check(V2Instance, V2Advert with { AuthenticationType = VrrpAuthenticationType.IpAuthenticationHeader }).RejectReason);

    [Fact]
    public void Auth_type_mismatch()
    {
        Assert.Equal(AdvertisementRejectReason.AuthTypeMismatch, Check(V2Instance, VrrpAdvertisement.CreateV2(51, 100, 1, Vips)).RejectReason);
        Assert.Equal(AdvertisementRejectReason.AuthTypeMismatch, Check(V2Instance with { AuthenticationType = VrrpAuthenticationType.None }, V2Advert).RejectReason);
    }

    [Fact]
    public void Wrong_password()
        => Assert.Equal(AdvertisementRejectReason.PasswordMismatch, Check(V2Instance, VrrpAdvertisement.CreateV2(51, 100, 1, Vips, VrrpAuthenticationType.SimpleText, "secreT")).RejectReason);

    [Fact]
    public void Passwords_equal_in_their_first_eight_bytes_match_as_in_keepalived()
        => Assert.True(Check(V2Instance with { AuthenticationData = VrrpPassword.ToAuthenticationData("longpassword") },
            VrrpAdvertisement.CreateV2(51, 100, 1, Vips, VrrpAuthenticationType.SimpleText, "longpass-other")).IsAccepted);

    [Fact]
    public void V2_interval_mismatch_is_dropped()
        => Assert.Equal(AdvertisementRejectReason.AdvertIntervalMismatch, Check(V2Instance, V2Advert with { AdvertisementIntervalSeconds = 2 }).RejectReason);

    [Fact]
    public void V3_interval_mismatch_is_accepted_and_observed_as_keepalived_does()
    {
        var result = Check(V3Instance, V3Advert with { MaxAdvertisementIntervalCentiseconds = 100 });
        Assert.True(result.IsAccepted);
        Assert.Equal(AdvertisementObservations.AdvertIntervalDiffers, result.Observations);
    }

    [Fact]
    public void V3_zero_interval_is_dropped()
        => Assert.Equal(AdvertisementRejectReason.AdvertIntervalMismatch, Check(V3Instance, V3Advert with { MaxAdvertisementIntervalCentiseconds = 0 }).RejectReason);

    [Fact]
    public void Address_list_mismatch_is_observed_by_default_and_dropped_when_configured()
    {
        var other = VrrpAdvertisement.CreateV2(51, 100, 1, [Vips[0]], VrrpAuthenticationType.SimpleText, "secret");
        var accepted = Check(V2Instance, other);
        Assert.True(accepted.IsAccepted);
        Assert.Equal(AdvertisementObservations.AddressListDiffers, accepted.Observations);

        var strict = V2Instance with { AddressListMismatch = AddressListMismatchPolicy.Drop };
        Assert.Equal(AdvertisementRejectReason.AddressListMismatch, Check(strict, other).RejectReason);
        Assert.Equal(AdvertisementRejectReason.AddressListMismatch, Check(strict, V2Advert with { Addresses = [Vips[0], IPAddress.Parse("10.99.0.9")] }).RejectReason);
        // Order does not matter, only membership (keepalived's check).
        Assert.True(Check(strict, V2Advert with { Addresses = [Vips[1], Vips[0]] }).IsAccepted);
    }

    [Fact]
    public void Unicast_source_check()
    {
        var expected = V2Instance with { CheckTimeToLive = false, AllowedSources = new HashSet<IPAddress> { IPAddress.Parse("10.99.0.7") } };
        Assert.Equal(AdvertisementRejectReason.SourceNotUnicastPeer, Check(expected, V2Advert).RejectReason);
        Assert.True(Check(expected, V2Advert, new ReceivedIpHeader(IPAddress.Parse("10.99.0.7"), IPAddress.Parse("10.99.0.1"), 255)).IsAccepted);
    }

    [Fact]
    public void Counters_count_each_outcome_by_reason()
    {
        var validator = new AdvertisementValidator(V2Instance);
        var counters = new RejectionCounters();
        var good = V2Advert.Encode(Multicast.Source, Multicast.Destination);
        counters.Record(validator.Validate(good, Multicast));
        counters.Record(validator.Validate(good, Multicast));
        counters.Record(validator.Validate(good, new ReceivedIpHeader(Multicast.Source, Multicast.Destination, 1)));
        counters.Record(validator.Validate(good.AsSpan(0, 3), Multicast));
        counters.Record(validator.Validate(good.AsSpan(0, 3), Multicast));

        Assert.Equal(2, counters.Accepted);
        Assert.Equal(1, counters[AdvertisementRejectReason.TtlNot255]);
        Assert.Equal(2, counters[AdvertisementRejectReason.TooShort]);
        Assert.Equal(0, counters[AdvertisementRejectReason.ChecksumInvalid]);
        Assert.Equal(3, counters.TotalRejected);
        Assert.Equal(new Dictionary<AdvertisementRejectReason, long> { [AdvertisementRejectReason.TtlNot255] = 1, [AdvertisementRejectReason.TooShort] = 2 }, counters.Snapshot());
    }

    [Fact]
    public void Every_reject_reason_is_exercised_by_this_class()
    {
        // Guards the brief "every reject reason has a test": a new reason without a test here fails.
        var covered = new[]
        {
            AdvertisementRejectReason.TooShort, AdvertisementRejectReason.CountLengthMismatch, AdvertisementRejectReason.TtlNot255,
            AdvertisementRejectReason.VersionMismatch, AdvertisementRejectReason.NotAnAdvertisement, AdvertisementRejectReason.ChecksumInvalid,
            AdvertisementRejectReason.VirtualRouterIdMismatch, AdvertisementRejectReason.AuthTypeUnknown,
            AdvertisementRejectReason.AuthenticationHeaderUnsupported, AdvertisementRejectReason.AuthTypeMismatch,
            AdvertisementRejectReason.PasswordMismatch, AdvertisementRejectReason.AdvertIntervalMismatch,
            AdvertisementRejectReason.AddressListMismatch, AdvertisementRejectReason.SourceNotUnicastPeer,
        };
        Assert.Equal(Enum.GetValues<AdvertisementRejectReason>().Order(), covered.Order());
    }
}
