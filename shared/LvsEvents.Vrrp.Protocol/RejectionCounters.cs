namespace LvsEvents.Vrrp.Protocol;

/// <summary>
/// Counts received adverts by outcome, for metrics (one counter per reason, never one event per advert).
/// Increments are atomic so a metrics reader on another thread sees consistent values.
/// </summary>
public sealed class RejectionCounters
{
    private static readonly AdvertisementRejectReason[] Reasons = Enum.GetValues<AdvertisementRejectReason>();
    private readonly long[] _byReason = new long[Reasons.Length];
    private long _accepted;

    public long Accepted => Interlocked.Read(ref _accepted);

    public long this[AdvertisementRejectReason reason] => Interlocked.Read(ref _byReason[(int)reason]);

    public long TotalRejected
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _byReason.Length; i++)
                total += Interlocked.Read(ref _byReason[i]);
            return total;
        }
    }

    public void Record(AdvertisementValidation validation)
    {
        if (validation.RejectReason is { } reason)
            Interlocked.Increment(ref _byReason[(int)reason]);
        else
            Interlocked.Increment(ref _accepted);
    }

    /// <summary>Non-zero rejection counts by reason.</summary>
    public IReadOnlyDictionary<AdvertisementRejectReason, long> Snapshot()
    {
        var snapshot = new Dictionary<AdvertisementRejectReason, long>();
        foreach (var reason in Reasons)
            if (this[reason] is var count and > 0)
                snapshot[reason] = count;
        return snapshot;
    }
}
