namespace LvsEvents.Keepalived.Model;

/// <summary>Marks a property whose value must never be shown or logged (auth_pass, SSL password): output prints ***.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SecretValueAttribute : Attribute
{
    public const string Redacted = "***";
}
