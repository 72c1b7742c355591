namespace LvsEvents.Keepalived.Model;

/// <summary>DNS_CHECK: a DNS query over UDP.</summary>
public sealed record DnsCheck : HealthChecker
{
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Keyword => "DNS_CHECK";

    /// <summary>A, NS, CNAME, SOA, MX, TXT or AAAA; default SOA.</summary>
    public string Type { get; init; } = "SOA";

    /// <summary>Default "." (the root).</summary>
    public string Name { get; init; } = ".";
}
