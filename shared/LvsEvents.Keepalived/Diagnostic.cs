namespace LvsEvents.Keepalived;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>One located problem found while reading or validating a configuration.</summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, SourceLocation Location, string Message)
{
    /// <summary>The <c>file:line:col: error: message</c> form compilers use, so editors can jump to it.</summary>
    public override string ToString() =>
        $"{Location}: {(Severity == DiagnosticSeverity.Error ? "error" : "warning")}: {Message}";
}
