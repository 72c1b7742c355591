namespace LvsEvents.Keepalived.Model;

/// <summary>SMTP_CHECK: connects and exchanges HELO.</summary>
public sealed record SmtpCheck : HealthChecker
{
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Keyword => "SMTP_CHECK";

    public string? HeloName { get; init; }
}
