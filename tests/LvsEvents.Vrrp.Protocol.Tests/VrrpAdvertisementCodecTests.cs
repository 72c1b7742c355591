using System.Net;

namespace LvsEvents.Vrrp.Protocol.Tests;

public class VrrpAdvertisementCodecTests
{
    private static readonly IPAddress[] KeepalivedVips = [IPAddress.Parse("10.99.0.100"), IPAddress.Parse("10.99.0.101")];

    [Fact]
    public void V2_pass_advert_decodes_field_by_field_from_keepalived_bytes()
    {
        Assert.True(VrrpAdvertisement.TryDecode(KeepalivedCaptures.Payload(KeepalivedCaptures.V2PassPriority100), out var advert, out var error));
        Assert.Equal(AdvertisementDecodeError.None, error);
        Assert.NotNull(advert);
        Assert.Equal(VrrpVersion.V2, advert.Version);
        Assert.Equal(1, advert.Type);
        Assert.Equal(51, advert.VirtualRouterId);
        Assert.Equal(100, advert.Priority);
        Assert.Equal(KeepalivedVips, advert.Addresses);
        Assert.Equal(VrrpAuthenticationType.SimpleText, advert.AuthenticationType);
        Assert.Equal("secret\0\0"u8.ToArray(), advert.AuthenticationData.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(1), advert.AdvertisementInterval);
        Assert.Equal(0x27ee, advert.Checksum);
        Assert.Equal(24, advert.Length); // 8 + 2 × 4 + 8: the IP total length 44 minus its 20-byte header
    }

    [Theory]
    [InlineData(KeepalivedCaptures.V2PassPriority100, 100)]
    [InlineData(KeepalivedCaptures.V2PassPriority0, 0)]
    public void V2_pass_encoding_is_byte_identical_to_keepalived(string capture, byte priority)
    {
        var ours = VrrpAdvertisement.CreateV2(51, priority, 1, KeepalivedVips, VrrpAuthenticationType.SimpleText, "secret");
        Assert.Equal(Convert.ToHexString(KeepalivedCaptures.Payload(capture)), Convert.ToHexString(ours.Encode(KeepalivedCaptures.Sender, ReceivedIpHeader.VrrpMulticastGroup)));
    }

    [Fact]
    public void V2_without_authentication_sends_eight_zero_bytes_like_keepalived()
    {
        var ours = VrrpAdvertisement.CreateV2(51, 100, 1, [IPAddress.Parse("10.99.0.100")]);
        Assert.Equal(Convert.ToHexString(KeepalivedCaptures.Payload(KeepalivedCaptures.V2NoAuthOneAddress)), Convert.ToHexString(ours.Encode(KeepalivedCaptures.Sender, ReceivedIpHeader.VrrpMulticastGroup)));
    }

    [Theory]
    [InlineData(KeepalivedCaptures.V3Interval10cs, 150)]
    [InlineData(KeepalivedCaptures.V3Priority0, 0)]
    public void V3_encoding_with_pseudo_header_is_byte_identical_to_keepalived(string capture, byte priority)
    {
        var ours = VrrpAdvertisement.CreateV3(52, priority, 10, [IPAddress.Parse("10.99.0.200")]);
        Assert.Equal(Convert.ToHexString(KeepalivedCaptures.Payload(capture)), Convert.ToHexString(ours.Encode(KeepalivedCaptures.Sender, ReceivedIpHeader.VrrpMulticastGroup)));
    }

    [Fact]
    public void V3_decodes_centiseconds_and_has_no_authentication_data()
    {
        Assert.True(VrrpAdvertisement.TryDecode(KeepalivedCaptures.Payload(KeepalivedCaptures.V3Interval10cs), out var advert, out _));
        Assert.NotNull(advert);
        Assert.Equal(VrrpVersion.V3, advert.Version);
        Assert.Equal(52, advert.VirtualRouterId);
        Assert.Equal(150, advert.Priority);
        Assert.Equal(10, advert.MaxAdvertisementIntervalCentiseconds);
        Assert.Equal(TimeSpan.FromMilliseconds(100), advert.AdvertisementInterval);
        Assert.Equal(0, advert.ReservedBits);
        Assert.Equal(12, advert.Length);
        Assert.True(advert.AuthenticationData.IsEmpty);
    }

    [Fact]
    public void V2_layout_built_by_hand_from_rfc3768()
    {
        // RFC 3768 §5.1: 0x21 (v2, type 1), VRID 1, priority 100, 1 address, auth 0, interval 1, checksum,
        // 192.168.1.100, 8 bytes of auth data. Checksum by hand: 0x2101 + 0x6401 + 0x0001 + 0xc0a8 + 0x0164
        // = 0x1470f, folded 0x4710, complemented 0xb8ef.
        byte[] expected = [0x21, 0x01, 0x64, 0x01, 0x00, 0x01, 0xb8, 0xef, 192, 168, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0];
        var advert = VrrpAdvertisement.CreateV2(1, 100, 1, [IPAddress.Parse("192.168.1.100")]);
        Assert.Equal(expected, advert.Encode(IPAddress.Parse("192.168.1.1"), ReceivedIpHeader.VrrpMulticastGroup));
    }

    [Fact]
    public void V3_layout_built_by_hand_from_rfc5798_including_the_pseudo_header()
    {
        // RFC 5798 §5.1: 0x31, VRID 1, priority 100, 1 address, rsvd 0 + interval 100 cs (0x0064), checksum, address.
        // Pseudo-header (§5.2.8): 192.168.1.1, 224.0.0.18, 0, 112, length 12.
        // Pseudo-header words 0xc0a8 + 0x0101 + 0xe000 + 0x0012 + 0x0070 + 0x000c = 0x1a237; message words
        // 0x3101 + 0x6401 + 0x0064 + 0xc0a8 + 0x0164 = 0x15772; total 0x2f9a9, folded 0xf9ab, complemented 0x0654.
        byte[] expected = [0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0x06, 0x54, 192, 168, 1, 100];
        var advert = VrrpAdvertisement.CreateV3(1, 100, 100, [IPAddress.Parse("192.168.1.100")]);
        Assert.Equal(expected, advert.Encode(IPAddress.Parse("192.168.1.1"), ReceivedIpHeader.VrrpMulticastGroup));
    }

    [Fact]
    public void V3_checksum_depends_on_the_pseudo_header_and_v2_does_not()
    {
        var v3 = VrrpAdvertisement.CreateV3(52, 150, 10, [IPAddress.Parse("10.99.0.200")]);
        var multicast = v3.Encode(KeepalivedCaptures.Sender, ReceivedIpHeader.VrrpMulticastGroup);
        var unicast = v3.Encode(KeepalivedCaptures.Sender, IPAddress.Parse("10.99.0.2"));
        Assert.NotEqual(multicast[6..8], unicast[6..8]);
        Assert.True(InternetChecksum.IsValidVrrp(VrrpVersion.V3, unicast, KeepalivedCaptures.Sender, IPAddress.Parse("10.99.0.2")));
        Assert.False(InternetChecksum.IsValidVrrp(VrrpVersion.V3, unicast, KeepalivedCaptures.Sender, ReceivedIpHeader.VrrpMulticastGroup));
        // Without the pseudo-header keepalived's v3 checksum does not verify: it really is included.
        Assert.NotEqual(0, InternetChecksum.Finish(InternetChecksum.Accumulate(multicast)));

        var v2 = VrrpAdvertisement.CreateV2(51, 100, 1, KeepalivedVips);
        Assert.Equal(v2.Encode(KeepalivedCaptures.Sender, ReceivedIpHeader.VrrpMulticastGroup), v2.Encode(IPAddress.Parse("1.2.3.4"), IPAddress.Parse("5.6.7.8")));
    }

    [Fact]
    public void Odd_length_checksum_pads_with_a_zero_byte()
    {
        // RFC 1071: 0x0102 + 0x0300 = 0x0402 → 0xfbfd.
        Assert.Equal(0xfbfd, InternetChecksum.Finish(InternetChecksum.Accumulate([1, 2, 3])));
    }

    [Fact]
    public void Password_is_truncated_to_eight_bytes_and_zero_padded_as_keepalived_does()
    {
        Assert.Equal("longpass"u8.ToArray(), VrrpPassword.ToAuthenticationData("longpassword"));
        Assert.Equal("ab\0\0\0\0\0\0"u8.ToArray(), VrrpPassword.ToAuthenticationData("ab"));
        Assert.Equal(new byte[8], VrrpPassword.ToAuthenticationData(null));
    }

    [Theory]
    [InlineData("", AdvertisementDecodeError.TooShort)]
    [InlineData("21336402010127", AdvertisementDecodeError.TooShort)]
    [InlineData("413364010001700300000000", AdvertisementDecodeError.UnsupportedVersion)]
    [InlineData("2133640200017003" + "0a630064" + "0000000000000000", AdvertisementDecodeError.CountLengthMismatch)] // says 2, carries 1
    [InlineData("31349601000a42a2" + "0a6300c8" + "00", AdvertisementDecodeError.CountLengthMismatch)] // trailing byte
    public void Malformed_input_is_an_error_code_not_an_exception(string hex, AdvertisementDecodeError expected)
    {
        Assert.False(VrrpAdvertisement.TryDecode(Convert.FromHexString(hex), out var advert, out var error));
        Assert.Null(advert);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void V3_reserved_bits_are_kept_on_decode_and_the_interval_is_their_low_twelve_bits()
    {
        var bytes = VrrpAdvertisement.CreateV3(1, 100, 0x0FFF, []) with { ReservedBits = 0xA };
        var encoded = bytes.Encode(Lab.Us, Lab.Group);
        Assert.Equal(0xAF, encoded[4]);
        Assert.True(VrrpAdvertisement.TryDecode(encoded, out var decoded, out _));
        Assert.Equal(0xA, decoded!.ReservedBits);
        Assert.Equal(TimeSpan.FromSeconds(40.95), decoded.AdvertisementInterval);
    }

    [Fact]
    public void Encoding_refuses_what_cannot_go_on_the_wire()
    {
        Assert.Throws<InvalidOperationException>(() => VrrpAdvertisement.CreateV3(1, 1, 4096, []).Encode(Lab.Us, Lab.Group));
        Assert.Throws<InvalidOperationException>(() => VrrpAdvertisement.CreateV2(1, 1, 1, [IPAddress.IPv6Loopback]).Encode(Lab.Us, Lab.Group));
        Assert.Throws<InvalidOperationException>(() => VrrpAdvertisement.CreateV2(1, 1, 1, Enumerable.Repeat(Lab.Vip, 256).ToArray()).Encode(Lab.Us, Lab.Group));
    }
}
