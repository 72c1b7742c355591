namespace LvsEvents.Keepalived.Model;

/// <summary>SSL_GET: HTTP_GET over TLS.</summary>
public sealed record SslGetCheck : HttpGetCheck
{
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Keyword => "SSL_GET";

    public bool EnableSni { get; init; }
}
