namespace LvsEvents.Keepalived.Syntax;

/// <summary>A word (quotes already removed) or a brace, with where it starts and which logical line it is on.</summary>
public sealed record Token(TokenKind Kind, string Text, SourceLocation Location, int LineIndex, bool WasQuoted);
