namespace LvsEvents.Keepalived;

/// <summary>Where a token, line or model object came from: 1-based line and column in a file.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
