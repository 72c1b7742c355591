namespace LvsEvents.Keepalived.Model;

/// <summary>HTTP_GET: fetches each url and compares status code and/or digest.</summary>
public record HttpGetCheck : HealthChecker
{
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Keyword => "HTTP_GET";

    public IReadOnlyList<HttpUrl> Urls { get; init; } = [];

    /// <summary>1.0, 1.0C or 1.1.</summary>
    public string? HttpProtocol { get; init; }

    public bool FastRecovery { get; init; }

    public string? Virtualhost { get; init; }
}
