namespace LvsEvents.Vrrp.Protocol;

/// <summary>Why bytes could not be read as a VRRP advert at all (before any check against the instance).</summary>
public enum AdvertisementDecodeError
{
    None,

    /// <summary>Shorter than the 8-byte fixed header.</summary>
    TooShort,

    /// <summary>Version nibble is neither 2 nor 3.</summary>
    UnsupportedVersion,

    /// <summary>The address count (plus the v2 authentication data) disagrees with the payload length.</summary>
    CountLengthMismatch,
}
