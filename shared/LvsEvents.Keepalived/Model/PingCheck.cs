namespace LvsEvents.Keepalived.Model;

/// <summary>PING_CHECK: ICMP echo.</summary>
public sealed record PingCheck : HealthChecker
{
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Keyword => "PING_CHECK";
}
