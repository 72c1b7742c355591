namespace LvsEvents.Keepalived.Model;

/// <summary>The authentication block of a vrrp_instance.</summary>
public sealed record VrrpAuthentication
{
    public VrrpAuthenticationType? Type { get; init; }

    /// <summary>keepalived uses only the first 8 characters.</summary>
    [SecretValue]
    public string? Password { get; init; }

    public required SourceLocation Location { get; init; }
}
