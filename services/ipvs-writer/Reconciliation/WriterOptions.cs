namespace LvsEvents.IpvsWriter.Reconciliation;

/// <summary>Settings of section <c>IpvsWriter</c> (and <c>--backend</c>).</summary>
public sealed class WriterOptions
{
    public const string Section = "IpvsWriter";

    /// <summary>auto, ipvs or nftables.</summary>
    public string Backend { get; set; } = "auto";

    /// <summary>
    /// Program the table of another network namespace (<c>/run/netns/NAME</c>) instead of the writer's own, e.g. a
    /// director running in a namespace while the writer reaches the broker from the host. Empty: the writer's own.
    /// </summary>
    public string? NetworkNamespace { get; set; }

    /// <summary>How often the kernel is read and drift corrected.</summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>RabbitMQ deletes this director's queue after it had no consumer for this long (a retired director).</summary>
    public TimeSpan QueueExpiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often drains are checked.</summary>
    public TimeSpan DrainCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
