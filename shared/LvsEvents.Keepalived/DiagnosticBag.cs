namespace LvsEvents.Keepalived;

/// <summary>Collects diagnostics in the order they are found.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = new();

    public IReadOnlyList<Diagnostic> Items => _items;

    public void Error(SourceLocation location, string message) =>
        _items.Add(new Diagnostic(DiagnosticSeverity.Error, location, message));

    public void Warning(SourceLocation location, string message) =>
        _items.Add(new Diagnostic(DiagnosticSeverity.Warning, location, message));
}
