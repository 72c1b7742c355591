namespace LvsEvents.Keepalived.Model;

/// <summary>A url block of HTTP_GET/SSL_GET.</summary>
public sealed record HttpUrl
{
    public string? Path { get; init; }

    public string? Digest { get; init; }

    /// <summary>Codes or ranges as written (200, 200-299); keepalived accepts 200-299 when none is given.</summary>
    public IReadOnlyList<string> StatusCodes { get; init; } = ["200-299"];

    public string? Virtualhost { get; init; }

    public string? Regex { get; init; }

    public bool RegexNoMatch { get; init; }

    public required SourceLocation Location { get; init; }
}
