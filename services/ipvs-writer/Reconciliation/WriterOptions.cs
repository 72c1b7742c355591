namespace LvsEvents.IpvsWriter.Reconciliation;

/// <summary>Settings of section <c>IpvsWriter</c> (and <c>--backend</c>).</summary>
public sealed class WriterOptions
{
    public const string Section = "IpvsWriter";

    /// <summary>auto, ipvs or nftables.</summary>
    public string Backend { get; set; } = "auto";

    /// <summary>How often the kernel is read and drift corrected.</summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often drains are checked.</summary>
    public TimeSpan DrainCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
