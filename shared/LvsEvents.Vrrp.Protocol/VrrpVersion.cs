namespace LvsEvents.Vrrp.Protocol;

/// <summary>The VRRP protocol version in the top nibble of an advert's first byte.</summary>
public enum VrrpVersion : byte
{
    /// <summary>RFC 3768: whole-second interval, authentication field.</summary>
    V2 = 2,

    /// <summary>RFC 5798: centisecond interval, no authentication, checksum over an IP pseudo-header.</summary>
    V3 = 3,
}
