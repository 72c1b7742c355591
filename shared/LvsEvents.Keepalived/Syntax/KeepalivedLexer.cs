using System.Globalization;
using System.Text;

namespace LvsEvents.Keepalived.Syntax;

/// <summary>
/// Splits preprocessed lines into words and braces. Quoting follows keepalived: <c>"</c> or <c>'</c> quote,
/// quotes are removed, quoted and unquoted parts that touch form one word, and shell-like escapes work in quotes.
/// </summary>
internal static class KeepalivedLexer
{
    public static List<Token> Tokenize(IReadOnlyList<MappedText> lines, DiagnosticBag diagnostics)
    {
        var tokens = new List<Token>();
        for (var lineIndex = 0; lineIndex < lines.Count; lineIndex++)
        {
            TokenizeLine(lines[lineIndex], lineIndex, tokens, diagnostics);
        }

        return tokens;
    }

    private static void TokenizeLine(MappedText line, int lineIndex, List<Token> tokens, DiagnosticBag diagnostics)
    {
        var text = line.Text;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (c is '{' or '}')
            {
                tokens.Add(new Token(c == '{' ? TokenKind.OpenBrace : TokenKind.CloseBrace, c.ToString(), line.LocationAt(i), lineIndex, false));
                i++;
                continue;
            }

            var start = i;

            // Fast path for the common unquoted word: no builder, one substring.
            var end = i;
            while (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] is not ('{' or '}' or '"' or '\''))
            {
                end++;
            }

            if (end == text.Length || char.IsWhiteSpace(text[end]) || text[end] is '{' or '}')
            {
                tokens.Add(new Token(TokenKind.Word, text[start..end], line.LocationAt(start), lineIndex, false));
                i = end;
                continue;
            }

            var word = new StringBuilder();
            var quoted = false;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('{' or '}'))
            {
                if (text[i] is '"' or '\'')
                {
                    quoted = true;
                    i = ReadQuoted(line, i, word, diagnostics);
                    continue;
                }

                word.Append(text[i]);
                i++;
            }

            tokens.Add(new Token(TokenKind.Word, word.ToString(), line.LocationAt(start), lineIndex, quoted));
        }
    }

    /// <summary>Reads a quoted section starting at <paramref name="open"/>; returns the index after the closing quote.</summary>
    private static int ReadQuoted(MappedText line, int open, StringBuilder word, DiagnosticBag diagnostics)
    {
        var text = line.Text;
        var quote = text[open];
        var i = open + 1;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == quote)
            {
                return i + 1;
            }

            if (c == '\\' && i + 1 < text.Length)
            {
                i = ReadEscape(text, i + 1, word);
                continue;
            }

            word.Append(c);
            i++;
        }

        diagnostics.Warning(line.LocationAt(open), $"unterminated {quote} quoted string; it runs to the end of the line");
        return i;
    }

    private static int ReadEscape(string text, int i, StringBuilder word)
    {
        var c = text[i];
        switch (c)
        {
            case 'a': word.Append('\a'); return i + 1;
            case 'b': word.Append('\b'); return i + 1;
            case 'E': word.Append('\u001b'); return i + 1;
            case 'f': word.Append('\f'); return i + 1;
            case 'n': word.Append('\n'); return i + 1;
            case 'r': word.Append('\r'); return i + 1;
            case 't': word.Append('\t'); return i + 1;
            case 'v': word.Append('\v'); return i + 1;
            case 'c' when i + 1 < text.Length:
                word.Append((char)(char.ToUpperInvariant(text[i + 1]) ^ 0x40));
                return i + 2;
            case 'x':
                var hexEnd = i + 1;
                while (hexEnd < text.Length && char.IsAsciiHexDigit(text[hexEnd]) && hexEnd - i <= 2)
                {
                    hexEnd++;
                }

                if (hexEnd == i + 1)
                {
                    word.Append('x');
                    return i + 1;
                }

                word.Append((char)int.Parse(text[(i + 1)..hexEnd], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                return hexEnd;
            case >= '0' and <= '7':
                var octalEnd = i;
                while (octalEnd < text.Length && octalEnd - i < 3 && text[octalEnd] is >= '0' and <= '7')
                {
                    octalEnd++;
                }

                word.Append((char)(Convert.ToInt32(text[i..octalEnd], 8) & 0xff));
                return octalEnd;
            default:
                word.Append(c);
                return i + 1;
        }
    }
}
