namespace LvsEvents.Vrrp.Protocol;

/// <summary>What one input to the state machine produced: actions to carry out, or the reason a packet was dropped.</summary>
public sealed record VrrpDecision(
    IReadOnlyList<VrrpAction> Actions,
    AdvertisementRejectReason? RejectReason = null,
    AdvertisementObservations Observations = AdvertisementObservations.None)
{
    public static readonly VrrpDecision None = new([]);

    public bool IsEmpty => Actions.Count == 0;

    public static VrrpDecision Rejected(AdvertisementRejectReason reason) => new([], reason);

    public IEnumerable<T> OfType<T>() where T : VrrpAction => Actions.OfType<T>();
}
