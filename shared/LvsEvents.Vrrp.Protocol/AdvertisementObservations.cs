namespace LvsEvents.Vrrp.Protocol;

/// <summary>Things worth logging about an advert that was nevertheless accepted.</summary>
[Flags]
public enum AdvertisementObservations
{
    None = 0,

    /// <summary>v3: the sender's interval differs from ours; a backup learns it as Master_Adver_Interval.</summary>
    AdvertIntervalDiffers = 1,

    /// <summary>The address list differs from ours; RFC 3768/5798 say log it and carry on unless configured to drop.</summary>
    AddressListDiffers = 2,

    /// <summary>Priority 0: the master is leaving.</summary>
    PriorityZero = 4,
}
