namespace LvsEvents.Keepalived.Model;

/// <summary>MISC_CHECK: runs a program; exit 0 means up (with misc_dynamic, 2..255 also set the weight).</summary>
public sealed record MiscCheck : HealthChecker
{
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Keyword => "MISC_CHECK";

    public string? Path { get; init; }

    /// <summary>Seconds; unset means keepalived uses the delay loop.</summary>
    public int? Timeout { get; init; }

    public bool Dynamic { get; init; }

    public string? User { get; init; }

    public string? Group { get; init; }
}
