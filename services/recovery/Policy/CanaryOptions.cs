namespace LvsEvents.Recovery.Policy;

/// <summary>Settings of section <c>Recovery:Canary</c>.</summary>
public sealed class CanaryOptions
{
    public const string Section = "Recovery:Canary";

    public bool Enabled { get; set; } = true;

    /// <summary>Where running canaries are kept across restarts; default <c>Eventing:SpoolDirectory/recovery-canary.json</c>.</summary>
    public string? StateFile { get; set; }

    /// <summary>
    /// How many new connections the kernel must have sent the new server within a step before its share of unanswered
    /// ones can roll the canary back (fewer say too little: one lost SYN of 3 is not a failing server). 20 lets a 5 %
    /// maximum error rate mean what it says (1 in 20).
    /// </summary>
    public int MinimumConnections { get; set; } = 20;

    /// <summary>With <c>--remove-old</c>: how long the old servers' connections may drain before the writer deletes them.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
