namespace LvsEvents.Keepalived.Syntax;

/// <summary>
/// One statement: a keyword, its arguments on the same line and, when a <c>{</c> follows (on the same or the next
/// line), the statements of its block. List blocks (virtual_ipaddress, unicast_peer, ...) are statements whose
/// keyword is the list item.
/// </summary>
public sealed record ConfigurationNode(
    Token KeywordToken,
    IReadOnlyList<Token> Arguments,
    IReadOnlyList<ConfigurationNode>? Block)
{
    public string Keyword => KeywordToken.Text;

    public SourceLocation Location => KeywordToken.Location;

    /// <summary>Every word of the statement, keyword first: list items use all of them.</summary>
    public IEnumerable<Token> Words => Arguments.Prepend(KeywordToken);
}
