namespace LvsEvents.Keepalived.Model;

/// <summary>UDP_CHECK: sends a datagram and relies on ICMP errors (or a reply, with require_reply).</summary>
public sealed record UdpCheck : HealthChecker
{
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Keyword => "UDP_CHECK";

    public string? Payload { get; init; }

    public bool RequireReply { get; init; }

    public string? RequiredReply { get; init; }

    public int MinReplyLength { get; init; }

    public int MaxReplyLength { get; init; } = 255;
}
