namespace LvsEvents.Vrrp.Protocol;

/// <summary>The VRRPv2 (RFC 3768 §5.3.6) authentication types keepalived knows.</summary>
public enum VrrpAuthenticationType : byte
{
    None = 0,

    /// <summary>keepalived's <c>auth_type PASS</c>: up to 8 bytes of text, zero padded, in clear.</summary>
    SimpleText = 1,

    /// <summary>
    /// keepalived's <c>auth_type AH</c>: an IPsec AH header (IP protocol 51) in front of the VRRP message with a
    /// truncated HMAC-MD5 and a sequence number. Recognized and rejected, never spoken: it needs AH header
    /// handling outside the VRRP message (and RFC 3768 deprecated authentication altogether).
    /// </summary>
    IpAuthenticationHeader = 2,
}
