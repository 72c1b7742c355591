namespace LvsEvents.Keepalived.Model;

/// <summary>TCP_CHECK: the real server is up when a TCP connection succeeds.</summary>
public sealed record TcpCheck : HealthChecker
{
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Keyword => "TCP_CHECK";
}
