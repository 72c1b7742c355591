namespace LvsEvents.Recovery.Policy;

/// <summary>Settings of section <c>Recovery:Canary</c>.</summary>
public sealed class CanaryOptions
{
    public const string Section = "Recovery:Canary";

    public bool Enabled { get; set; } = true;

    /// <summary>Where running canaries are kept across restarts; default <c>Eventing:SpoolDirectory/recovery-canary.json</c>.</summary>
    public string? StateFile { get; set; }

    /// <summary>With <c>--remove-old</c>: how long the old servers' connections may drain before the writer deletes them.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
