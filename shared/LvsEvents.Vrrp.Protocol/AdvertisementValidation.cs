namespace LvsEvents.Vrrp.Protocol;

/// <summary>The verdict on one received packet: accepted with its advert, or the reason it was dropped.</summary>
public sealed record AdvertisementValidation
{
    private AdvertisementValidation(VrrpAdvertisement? advertisement, AdvertisementRejectReason? reason, AdvertisementObservations observations)
    {
        Advertisement = advertisement;
        RejectReason = reason;
        Observations = observations;
    }

    /// <summary>Set when decoding got that far, also for rejected adverts (for logging).</summary>
    public VrrpAdvertisement? Advertisement { get; }
    public AdvertisementRejectReason? RejectReason { get; }
    public AdvertisementObservations Observations { get; }
    public bool IsAccepted => RejectReason is null;

    public static AdvertisementValidation Accept(VrrpAdvertisement advertisement, AdvertisementObservations observations)
        => new(advertisement, null, observations);

    public static AdvertisementValidation Reject(AdvertisementRejectReason reason, VrrpAdvertisement? advertisement = null)
        => new(advertisement, reason, AdvertisementObservations.None);
}
