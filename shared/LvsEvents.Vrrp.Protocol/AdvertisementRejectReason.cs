namespace LvsEvents.Vrrp.Protocol;

/// <summary>Why a received advert was discarded. A rejected advert changes no state; it is only counted.</summary>
public enum AdvertisementRejectReason
{
    /// <summary>Shorter than the fixed 8-byte header.</summary>
    TooShort,

    /// <summary>The address count disagrees with the payload length (RFC: MUST contain the complete packet).</summary>
    CountLengthMismatch,

    /// <summary>IP TTL is not 255 (checked unless in unicast mode, as keepalived does).</summary>
    TtlNot255,

    /// <summary>The version differs from the instance's (or is not 2/3 at all).</summary>
    VersionMismatch,

    /// <summary>Type is not 1 (advertisement).</summary>
    NotAnAdvertisement,

    /// <summary>Checksum does not verify (v3: including the IPv4 pseudo-header).</summary>
    ChecksumInvalid,

    /// <summary>An advert for another virtual router on the same link: normal, dropped silently, still counted.</summary>
    VirtualRouterIdMismatch,

    /// <summary>v2 auth type other than 0, 1, 2.</summary>
    AuthTypeUnknown,

    /// <summary>v2 auth type 2 (IPsec AH): recognized, not supported (see <see cref="VrrpAuthenticationType"/>).</summary>
    AuthenticationHeaderUnsupported,

    /// <summary>v2 auth type differs from the instance's.</summary>
    AuthTypeMismatch,

    /// <summary>v2 PASS data differs from the instance's password.</summary>
    PasswordMismatch,

    /// <summary>
    /// v2: Adver Int differs from ours (RFC 3768 §7.1 MUST discard; keepalived drops it "to prevent concurrent VRID
    /// running"). v3: only a zero interval, which would let every backup take over at once; any other v3
    /// interval is accepted and learnt as keepalived does.
    /// </summary>
    AdvertIntervalMismatch,

    /// <summary>The advert's address list differs from ours, and the instance is configured to drop such adverts.</summary>
    AddressListMismatch,

    /// <summary>Unicast mode with source checking: the source is none of the configured <c>unicast_peer</c>s.</summary>
    SourceNotUnicastPeer,
}
