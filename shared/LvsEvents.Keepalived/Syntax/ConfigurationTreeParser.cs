namespace LvsEvents.Keepalived.Syntax;

/// <summary>Groups tokens into statements and nested blocks, reporting unbalanced braces where they are.</summary>
internal sealed class ConfigurationTreeParser
{
    private readonly List<Token> _tokens;
    private readonly DiagnosticBag _diagnostics;
    private int _position;
    private int _depth;

    /// <summary>Deeper nesting than any real configuration; the bound keeps hostile input from exhausting the stack.</summary>
    private const int MaxDepth = 64;

    private ConfigurationTreeParser(List<Token> tokens, DiagnosticBag diagnostics)
    {
        _tokens = tokens;
        _diagnostics = diagnostics;
    }

    public static IReadOnlyList<ConfigurationNode> Parse(List<Token> tokens, DiagnosticBag diagnostics) =>
        new ConfigurationTreeParser(tokens, diagnostics).ParseTopLevel();

    private List<ConfigurationNode> ParseTopLevel()
    {
        var nodes = new List<ConfigurationNode>();
        while (_position < _tokens.Count)
        {
            if (_tokens[_position].Kind == TokenKind.CloseBrace)
            {
                _diagnostics.Error(_tokens[_position].Location, "extra '}' with no block to close");
                _position++;
                continue;
            }

            ParseStatement(nodes);
        }

        return nodes;
    }

    /// <summary>Parses the statements of a block whose '{' has been consumed, up to and including its '}'.</summary>
    private List<ConfigurationNode> ParseBlockBody(ConfigurationNode owner)
    {
        var nodes = new List<ConfigurationNode>();
        while (_position < _tokens.Count)
        {
            if (_tokens[_position].Kind == TokenKind.CloseBrace)
            {
                _position++;
                return nodes;
            }

            ParseStatement(nodes);
        }

        _diagnostics.Error(owner.Location, $"'{owner.Keyword}' block is never closed: missing '}}'");
        return nodes;
    }

    private void ParseStatement(List<ConfigurationNode> nodes)
    {
        var keyword = _tokens[_position];
        if (keyword.Kind == TokenKind.OpenBrace)
        {
            _diagnostics.Error(keyword.Location, "'{' without a keyword before it; the block is ignored");
            _position++;
            SkipBlockBody();
            return;
        }

        _position++;
        var arguments = new List<Token>();
        while (_position < _tokens.Count
               && _tokens[_position].LineIndex == keyword.LineIndex
               && _tokens[_position].Kind == TokenKind.Word)
        {
            arguments.Add(_tokens[_position]);
            _position++;
        }

        // keepalived accepts the opening brace on the keyword's line or alone at the start of the next one.
        if (_position < _tokens.Count && _tokens[_position].Kind == TokenKind.OpenBrace
            && (_tokens[_position].LineIndex == keyword.LineIndex || IsFirstOnItsLine(_position)))
        {
            _position++;
            var node = new ConfigurationNode(keyword, arguments, Array.Empty<ConfigurationNode>());
            if (_depth >= MaxDepth)
            {
                _diagnostics.Error(keyword.Location, $"blocks nested deeper than {MaxDepth} levels; '{keyword.Text}' is ignored");
                SkipBlockBody();
                return;
            }

            _depth++;
            try
            {
                nodes.Add(node with { Block = ParseBlockBody(node) });
            }
            finally
            {
                _depth--;
            }

            return;
        }

        nodes.Add(new ConfigurationNode(keyword, arguments, null));
    }

    /// <summary>Skips to the '}' matching an already consumed '{', without recursion.</summary>
    private void SkipBlockBody()
    {
        var open = 1;
        while (_position < _tokens.Count && open > 0)
        {
            open += _tokens[_position].Kind switch
            {
                TokenKind.OpenBrace => 1,
                TokenKind.CloseBrace => -1,
                _ => 0,
            };
            _position++;
        }
    }

    private bool IsFirstOnItsLine(int index) => index == 0 || _tokens[index - 1].LineIndex != _tokens[index].LineIndex;
}
