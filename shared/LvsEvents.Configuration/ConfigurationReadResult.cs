using LvsEvents.Keepalived;

namespace LvsEvents.Configuration;

/// <summary>One read of keepalived.conf: either a usable configuration, or every error that makes it unusable.</summary>
public sealed record ConfigurationReadResult(string File, LoadedConfiguration? Configuration, IReadOnlyList<Diagnostic> Errors)
{
    public bool IsValid => Configuration is not null;

    /// <summary>The errors as <c>file:line:col: error: message</c>, the form editors jump to.</summary>
    public IReadOnlyList<string> ErrorLines => Errors.Select(e => e.ToString()).ToList();
}
