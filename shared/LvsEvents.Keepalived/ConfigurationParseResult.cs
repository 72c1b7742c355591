using LvsEvents.Keepalived.Model;

namespace LvsEvents.Keepalived;

/// <summary>The model (always built, as far as the input allows) and every located problem.</summary>
public sealed record ConfigurationParseResult(
    KeepalivedConfiguration Configuration,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlyList<string> Files)
{
    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);

    public IEnumerable<Diagnostic> Warnings => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning);

    public bool HasErrors => Errors.Any();

    public bool IsValid => !HasErrors;
}
