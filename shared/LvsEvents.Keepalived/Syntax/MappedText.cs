using System.Text;

namespace LvsEvents.Keepalived.Syntax;

/// <summary>
/// One line of text that remembers, for every character, the file position it came from, so that tokens produced
/// after comment stripping and macro substitution still point at the right column.
/// </summary>
internal sealed class MappedText
{
    private readonly int[]? _columns;
    private readonly int _firstColumn;

    public MappedText(string text, int[] columns, string file, int line)
    {
        Text = text;
        _columns = columns;
        File = file;
        Line = line;
    }

    /// <summary>Text copied unchanged from the file: columns are implicit, which keeps big files cheap to read.</summary>
    private MappedText(string text, int firstColumn, string file, int line)
    {
        Text = text;
        _firstColumn = firstColumn;
        File = file;
        Line = line;
    }

    public string Text { get; }

    public string File { get; }

    public int Line { get; }

    public int Length => Text.Length;

    public static MappedText FromSource(string text, string file, int line) => new(text, 1, file, line);

    public int ColumnAt(int index) => _columns is null ? _firstColumn + index : _columns[index];

    public SourceLocation LocationAt(int index)
    {
        if (Text.Length == 0)
        {
            return new SourceLocation(File, Line, _columns is null ? _firstColumn : 1);
        }

        return new SourceLocation(File, Line, index < Text.Length ? ColumnAt(Math.Max(index, 0)) : ColumnAt(Text.Length - 1) + 1);
    }

    public MappedText Slice(int start, int length)
    {
        if (start == 0 && length == Text.Length)
        {
            return this;
        }

        return _columns is null
            ? new MappedText(Text.Substring(start, length), _firstColumn + start, File, Line)
            : new MappedText(Text.Substring(start, length), _columns.AsSpan(start, length).ToArray(), File, Line);
    }

    public MappedText Slice(int start) => Slice(start, Text.Length - start);

    public MappedText Trim()
    {
        var start = 0;
        while (start < Text.Length && char.IsWhiteSpace(Text[start]))
        {
            start++;
        }

        var end = Text.Length;
        while (end > start && char.IsWhiteSpace(Text[end - 1]))
        {
            end--;
        }

        return start == 0 && end == Text.Length ? this : Slice(start, end - start);
    }

    /// <summary>Builds a new mapped line piece by piece (used by substitution).</summary>
    public sealed class Builder(string file, int line)
    {
        private readonly StringBuilder _text = new();
        private readonly List<int> _columns = new();

        public int Length => _text.Length;

        public void Append(char c, int column)
        {
            _text.Append(c);
            _columns.Add(column);
        }

        public void Append(string s, int column)
        {
            _text.Append(s);
            for (var i = 0; i < s.Length; i++)
            {
                _columns.Add(column);
            }
        }

        public MappedText Build() => new(_text.ToString(), _columns.ToArray(), file, line);
    }
}
