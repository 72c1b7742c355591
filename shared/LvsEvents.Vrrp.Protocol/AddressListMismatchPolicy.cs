namespace LvsEvents.Vrrp.Protocol;

/// <summary>What to do with an advert whose address list differs from the instance's.</summary>
public enum AddressListMismatchPolicy
{
    /// <summary>RFC 3768 §7.1 / RFC 5798 §7.1: MAY verify; log and accept.</summary>
    Accept,

    /// <summary>
    /// keepalived's default: it discards such adverts (unless <c>skip_check_adv_addr</c> and the sender is the
    /// known master), so choose this to behave exactly like a keepalived peer.
    /// </summary>
    Drop,
}
