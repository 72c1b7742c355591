using System.Net;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>
/// Every receive-side check of RFC 3768 §7.1 and RFC 5798 §7.1, in the RFCs' order (TTL, version, length,
/// checksum, VRID, authentication, interval, addresses), with keepalived's choices where the RFCs leave one
/// (see <see cref="AdvertisementRejectReason"/>). It never throws on packet content.
/// </summary>
public sealed class AdvertisementValidator
{
    private readonly AdvertisementExpectations _expected;
    private readonly HashSet<IPAddress> _virtualAddresses;

    public AdvertisementValidator(AdvertisementExpectations expected)
    {
        _expected = expected;
        _virtualAddresses = [.. expected.VirtualAddresses];
    }

    public AdvertisementExpectations Expectations => _expected;

    public AdvertisementValidation Validate(ReadOnlySpan<byte> payload, ReceivedIpHeader ip)
    {
        if (payload.Length < VrrpAdvertisement.FixedHeaderLength)
            return AdvertisementValidation.Reject(AdvertisementRejectReason.TooShort);
        if (_expected.CheckTimeToLive && ip.TimeToLive != ReceivedIpHeader.RequiredTimeToLive)
            return AdvertisementValidation.Reject(AdvertisementRejectReason.TtlNot255);
        if (payload[0] >> 4 != (int)_expected.Version)
            return AdvertisementValidation.Reject(AdvertisementRejectReason.VersionMismatch);
        if (!VrrpAdvertisement.TryDecode(payload, out var advert, out var error) || advert is null)
            return AdvertisementValidation.Reject(error switch
            {
                AdvertisementDecodeError.TooShort => AdvertisementRejectReason.TooShort,
                AdvertisementDecodeError.UnsupportedVersion => AdvertisementRejectReason.VersionMismatch,
                _ => AdvertisementRejectReason.CountLengthMismatch,
            });
        if (advert.Type != VrrpAdvertisement.AdvertisementType)
            return AdvertisementValidation.Reject(AdvertisementRejectReason.NotAnAdvertisement, advert);
        if (!InternetChecksum.IsValidVrrp(advert.Version, payload, ip.Source, ip.Destination))
            return AdvertisementValidation.Reject(AdvertisementRejectReason.ChecksumInvalid, advert);
        if (advert.VirtualRouterId != _expected.VirtualRouterId)
            return AdvertisementValidation.Reject(AdvertisementRejectReason.VirtualRouterIdMismatch, advert);
        if (_expected.AllowedSources is { } allowed && !allowed.Contains(ip.Source))
            return AdvertisementValidation.Reject(AdvertisementRejectReason.SourceNotUnicastPeer, advert);

        var observations = AdvertisementObservations.None;
        if (advert.Version == VrrpVersion.V2)
        {
            if (advert.AuthenticationType > VrrpAuthenticationType.IpAuthenticationHeader)
                return AdvertisementValidation.Reject(AdvertisementRejectReason.AuthTypeUnknown, advert);
            if (advert.AuthenticationType == VrrpAuthenticationType.IpAuthenticationHeader)
                return AdvertisementValidation.Reject(AdvertisementRejectReason.AuthenticationHeaderUnsupported, advert);
            if (advert.AuthenticationType != _expected.AuthenticationType)
                return AdvertisementValidation.Reject(AdvertisementRejectReason.AuthTypeMismatch, advert);
            if (advert.AuthenticationType == VrrpAuthenticationType.SimpleText
                && !advert.AuthenticationData.Span.SequenceEqual(_expected.AuthenticationData.Span))
                return AdvertisementValidation.Reject(AdvertisementRejectReason.PasswordMismatch, advert);
            if (advert.AdvertisementInterval != _expected.AdvertisementInterval)
                return AdvertisementValidation.Reject(AdvertisementRejectReason.AdvertIntervalMismatch, advert);
        }
        else
        {
            if (advert.MaxAdvertisementIntervalCentiseconds == 0)
                return AdvertisementValidation.Reject(AdvertisementRejectReason.AdvertIntervalMismatch, advert);
            if (advert.AdvertisementInterval != _expected.AdvertisementInterval)
                observations |= AdvertisementObservations.AdvertIntervalDiffers;
        }

        if (!SameAddresses(advert.Addresses))
        {
            if (_expected.AddressListMismatch == AddressListMismatchPolicy.Drop)
                return AdvertisementValidation.Reject(AdvertisementRejectReason.AddressListMismatch, advert);
            observations |= AdvertisementObservations.AddressListDiffers;
        }
        if (advert.Priority == 0)
            observations |= AdvertisementObservations.PriorityZero;
        return AdvertisementValidation.Accept(advert, observations);
    }

    /// <summary>keepalived's test: the same number of addresses, and each of ours is among them (order free).</summary>
    private bool SameAddresses(IReadOnlyList<IPAddress> received)
    {
        if (received.Count != _virtualAddresses.Count)
            return false;
        foreach (var address in received)
            if (!_virtualAddresses.Contains(address))
                return false;
        return true;
    }
}
