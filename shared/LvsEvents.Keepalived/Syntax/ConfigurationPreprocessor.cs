using System.Globalization;
using System.Text.RegularExpressions;

namespace LvsEvents.Keepalived.Syntax;

/// <summary>
/// keepalived's line-level language: comments, <c>@id</c>/<c>@^id</c> conditional lines, <c>$NAME=value</c>
/// definitions (also multi-line), <c>$NAME</c>/<c>${NAME}</c> substitution, <c>~SEQ</c>/<c>~SEQx</c>/<c>~LST</c>
/// repetition and <c>include</c> (with globs, relative to the including file). Produces the lines the lexer sees.
/// </summary>
internal sealed partial class ConfigurationPreprocessor
{
    private static readonly HashSet<string> IncludeKeywords = new(StringComparer.Ordinal)
    {
        "include", "includer", "includem", "includew", "includeb", "includea",
    };

    private readonly ParserOptions _options;
    private readonly DiagnosticBag _diagnostics;
    private readonly List<MappedText> _output = new();
    private readonly Dictionary<string, Definition> _definitions = new(StringComparer.Ordinal);
    private readonly Stack<string> _fileStack = new();
    private readonly Random _random;
    private bool _limitReported;
    private long _linesProcessed;
    private readonly HashSet<SourceLocation> _depthReported = new();

    public ConfigurationPreprocessor(ParserOptions options, DiagnosticBag diagnostics)
    {
        _options = options;
        _diagnostics = diagnostics;
        _random = new Random(options.RandomSeed);
    }

    public IReadOnlyList<string> FilesRead => _filesRead;

    private readonly List<string> _filesRead = new();

    public IReadOnlyList<MappedText> Run(string path)
    {
        var full = Path.GetFullPath(path);
        ProcessFile(full, includedFrom: null);
        return _output;
    }

    /// <summary>
    /// Bounds both the output and the work: a definition whose body names itself twice doubles at every level,
    /// so counting emitted lines alone would not stop it.
    /// </summary>
    private bool LimitReached(SourceLocation location)
    {
        _linesProcessed++;
        if (_output.Count < _options.MaxLogicalLines && _linesProcessed < 4L * _options.MaxLogicalLines)
        {
            return _limitReported;
        }

        if (!_limitReported)
        {
            _limitReported = true;
            _diagnostics.Error(location, $"configuration expands to more than {_options.MaxLogicalLines} lines (recursive definition or huge ~SEQ?); stopping");
        }

        return true;
    }

    private void ProcessFile(string path, SourceLocation? includedFrom)
    {
        var origin = includedFrom ?? new SourceLocation(path, 1, 1);
        if (_fileStack.Contains(path, StringComparer.Ordinal))
        {
            _diagnostics.Error(origin, $"include loop: {path} includes itself");
            return;
        }

        if (_fileStack.Count >= _options.MaxIncludeDepth)
        {
            _diagnostics.Error(origin, $"includes nested deeper than {_options.MaxIncludeDepth} levels");
            return;
        }

        if (_options.FileSystem.DirectoryExists(path) && !_options.FileSystem.FileExists(path))
        {
            _diagnostics.Error(origin, $"cannot read {path}: is a directory");
            return;
        }

        var text = _options.FileSystem.TryReadAllText(path, out var failure);
        if (text is null)
        {
            _diagnostics.Error(origin, $"cannot read {path}: {failure}");
            return;
        }

        _filesRead.Add(path);
        _fileStack.Push(path);
        try
        {
            ProcessText(text, path);
        }
        finally
        {
            _fileStack.Pop();
        }
    }

    private void ProcessText(string text, string path)
    {
        var lines = text.Split('\n');
        string? collectingName = null;
        List<MappedText>? collected = null;
        SourceLocation? collectingStart = null;
        for (var index = 0; index < lines.Length; index++)
        {
            var raw = lines[index].TrimEnd('\r');
            var line = StripComment(MappedText.FromSource(raw, path, index + 1));
            if (collectingName is not null)
            {
                var trimmed = line.Trim();
                if (trimmed.Length == 0)
                {
                    continue;
                }

                if (trimmed.Text.EndsWith('\\'))
                {
                    collected!.Add(trimmed.Slice(0, trimmed.Length - 1));
                    continue;
                }

                collected!.Add(trimmed);
                _definitions[collectingName] = new Definition(null, collected);
                collectingName = null;
                continue;
            }

            var start = TryStartMultiLineDefinition(line);
            if (start is not null)
            {
                collectingName = start;
                collected = new List<MappedText>();
                collectingStart = line.LocationAt(0);
                continue;
            }

            ProcessLine(line, 0);
            if (_limitReported)
            {
                return;
            }
        }

        if (collectingName is not null)
        {
            // A definition whose last line still ends with '\' just ends with the file.
            _definitions[collectingName] = new Definition(null, collected!);
            _diagnostics.Warning(collectingStart!, $"multi-line definition ${collectingName} is not terminated before the end of the file");
        }
    }

    /// <summary>A multi-line definition starts with <c>$NAME=</c> followed only by a backslash.</summary>
    private string? TryStartMultiLineDefinition(MappedText line)
    {
        if (line.Text.IndexOf('$') < 0)
        {
            return null;
        }

        var trimmed = line.Trim().Text;
        var match = DefinitionPattern().Match(trimmed);
        if (!match.Success)
        {
            return null;
        }

        return match.Groups[2].Value.Trim() == "\\" ? match.Groups[1].Value : null;
    }

    private void ProcessLine(MappedText line, int depth)
    {
        var trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return;
        }

        if (depth > _options.MaxExpansionDepth)
        {
            if (_depthReported.Add(trimmed.LocationAt(0)))
            {
                _diagnostics.Error(trimmed.LocationAt(0), $"definitions expand more than {_options.MaxExpansionDepth} levels deep (recursive definition?)");
            }

            return;
        }

        if (LimitReached(trimmed.LocationAt(0)))
        {
            return;
        }

        // A loop over indices rather than recursion or slicing: "@a @b @c ..." must stay linear.
        var conditional = trimmed.Text;
        var position = 0;
        while (position < conditional.Length && conditional[position] == '@')
        {
            var negate = position + 1 < conditional.Length && conditional[position + 1] == '^';
            var idStart = position + (negate ? 2 : 1);
            var idEnd = idStart;
            while (idEnd < conditional.Length && !char.IsWhiteSpace(conditional[idEnd]))
            {
                idEnd++;
            }

            var matches = string.CompareOrdinal(conditional, idStart, _options.ConfigId, 0, Math.Max(idEnd - idStart, _options.ConfigId.Length)) == 0
                          && idEnd - idStart == _options.ConfigId.Length;
            if (matches == negate)
            {
                return;
            }

            position = idEnd;
            while (position < conditional.Length && char.IsWhiteSpace(conditional[position]))
            {
                position++;
            }
        }

        if (position > 0)
        {
            if (position >= conditional.Length)
            {
                return;
            }

            trimmed = trimmed.Slice(position);
        }

        var text = trimmed.Text;

        var definition = text[0] == '$' ? DefinitionPattern().Match(text) : Match.Empty;
        if (definition.Success)
        {
            var valueStart = definition.Groups[2].Index;
            _definitions[definition.Groups[1].Value] = new Definition(trimmed.Slice(valueStart).Trim(), null);
            return;
        }

        if (text.StartsWith("~SEQ(", StringComparison.Ordinal) || text.StartsWith("~SEQx(", StringComparison.Ordinal))
        {
            ExpandSequence(trimmed, depth);
            return;
        }

        if (text.StartsWith("~LST(", StringComparison.Ordinal))
        {
            ExpandList(trimmed, depth);
            return;
        }

        var whole = text[0] == '$' ? WholeLineReference().Match(text) : Match.Empty;
        if (whole.Success)
        {
            var name = whole.Groups[1].Success ? whole.Groups[1].Value : whole.Groups[2].Value;
            if (_definitions.TryGetValue(name, out var multi) && multi.Lines is not null)
            {
                foreach (var bodyLine in multi.Lines)
                {
                    ProcessLine(bodyLine, depth + 1);
                    if (_limitReported)
                    {
                        return;
                    }
                }

                return;
            }
        }

        var substituted = Substitute(trimmed);
        if (substituted is null)
        {
            return;
        }

        if (!ReferenceEquals(substituted, trimmed) && substituted.Text != trimmed.Text)
        {
            // The value may itself start a conditional, a definition or a sequence.
            ProcessLine(substituted, depth + 1);
            return;
        }

        var firstWordEnd = 0;
        while (firstWordEnd < text.Length && !char.IsWhiteSpace(text[firstWordEnd]))
        {
            firstWordEnd++;
        }

        var keyword = text[..firstWordEnd];
        if (IncludeKeywords.Contains(keyword))
        {
            Include(keyword, trimmed, firstWordEnd);
            return;
        }

        _output.Add(trimmed);
    }

    private void Include(string keyword, MappedText line, int argumentStart)
    {
        var location = line.LocationAt(0);
        var pattern = line.Text[argumentStart..].Trim();
        if (pattern.Length >= 2 && (pattern[0] == '"' || pattern[0] == '\'') && pattern[^1] == pattern[0])
        {
            pattern = pattern[1..^1];
        }

        if (pattern.Length == 0)
        {
            _diagnostics.Error(location, $"'{keyword}' needs a file name");
            return;
        }

        var directory = Path.GetDirectoryName(_fileStack.Peek()) ?? "/";
        foreach (var expanded in BraceExpansion.Expand(pattern))
        {
            var absolute = Path.GetFullPath(Path.IsPathRooted(expanded) ? expanded : Path.Combine(directory, expanded));
            if (!GlobMatcher.HasWildcards(absolute))
            {
                ProcessFile(absolute, location);
                continue;
            }

            var files = GlobMatcher.Match(absolute, _options.FileSystem);
            if (files.Count == 0)
            {
                // Plain include and includer tolerate an empty wildcard (optional conf.d directories).
                var message = $"'{keyword} {expanded}' matches no files";
                if (keyword is "include" or "includer")
                {
                    _diagnostics.Warning(location, message);
                }
                else
                {
                    _diagnostics.Error(location, message);
                }
            }

            foreach (var file in files)
            {
                ProcessFile(file, location);
            }
        }
    }

    private void ExpandSequence(MappedText line, int depth)
    {
        var location = line.LocationAt(0);
        var hex = line.Text.StartsWith("~SEQx(", StringComparison.Ordinal);
        var open = line.Text.IndexOf('(');
        var close = line.Text.IndexOf(')', open);
        if (close < 0)
        {
            _diagnostics.Error(location, "~SEQ without a closing ')'");
            return;
        }

        var parts = line.Text[(open + 1)..close].Split(',').Select(p => p.Trim()).ToArray();
        if (parts.Length is < 2 or > 4 || !VariableName().IsMatch(parts[0]))
        {
            _diagnostics.Error(location, "~SEQ needs (variable, [start, [step,]] end)");
            return;
        }

        var numbers = new long[parts.Length - 1];
        for (var i = 1; i < parts.Length; i++)
        {
            if (!TryParseSequenceNumber(parts[i], out numbers[i - 1]))
            {
                _diagnostics.Error(location, $"~SEQ value '{parts[i]}' is not a number");
                return;
            }
        }

        long start, step, end;
        switch (numbers.Length)
        {
            case 1:
                end = numbers[0];
                start = end >= 0 ? 1 : -1;
                step = end >= start ? 1 : -1;
                break;
            case 2:
                (start, end) = (numbers[0], numbers[1]);
                step = end >= start ? 1 : -1;
                break;
            default:
                (start, step, end) = (numbers[0], numbers[1], numbers[2]);
                break;
        }

        if (step == 0 || (step > 0 && start > end) || (step < 0 && start < end))
        {
            _diagnostics.Error(location, $"~SEQ({start}, {step}, {end}) never reaches its end");
            return;
        }

        var body = line.Slice(close + 1);
        var name = parts[0];
        _definitions.TryGetValue(name, out var previous);
        for (var value = start; step > 0 ? value <= end : value >= end; value += step)
        {
            var text = hex ? value.ToString("x", CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);
            _definitions[name] = new Definition(MappedText.FromSource(text, line.File, line.Line), null);
            ProcessLine(body, depth + 1);
            if (_limitReported)
            {
                break;
            }
        }

        Restore(name, previous);
    }

    private void ExpandList(MappedText line, int depth)
    {
        var location = line.LocationAt(0);
        var open = line.Text.IndexOf('(');
        var close = FindClosingParenthesis(line.Text, open);
        if (close < 0)
        {
            _diagnostics.Error(location, "~LST without a closing ')'");
            return;
        }

        var items = SplitTopLevel(line.Text[(open + 1)..close]);
        if (items.Count < 2)
        {
            _diagnostics.Error(location, "~LST needs a variable and at least one value");
            return;
        }

        var names = Unbrace(items[0]);
        if (names.Count == 0 || names.Any(n => !VariableName().IsMatch(n)))
        {
            _diagnostics.Error(location, $"~LST variable list '{items[0]}' is not valid");
            return;
        }

        var body = line.Slice(close + 1);
        var previous = names.ToDictionary(n => n, n => _definitions.GetValueOrDefault(n));
        foreach (var item in items.Skip(1))
        {
            var values = Unbrace(item);
            if (values.Count != names.Count)
            {
                _diagnostics.Error(location, $"~LST value '{item}' does not give {names.Count} value(s)");
                continue;
            }

            for (var i = 0; i < names.Count; i++)
            {
                _definitions[names[i]] = new Definition(MappedText.FromSource(values[i], line.File, line.Line), null);
            }

            ProcessLine(body, depth + 1);
            if (_limitReported)
            {
                break;
            }
        }

        foreach (var (name, value) in previous)
        {
            Restore(name, value);
        }
    }

    private void Restore(string name, Definition? previous)
    {
        if (previous is null)
        {
            _definitions.Remove(name);
        }
        else
        {
            _definitions[name] = previous;
        }
    }

    private static int FindClosingParenthesis(string text, int open)
    {
        var braces = 0;
        for (var i = open + 1; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '{':
                    braces++;
                    break;
                case '}':
                    braces--;
                    break;
                case ')' when braces <= 0:
                    return i;
            }
        }

        return -1;
    }

    private static List<string> SplitTopLevel(string text)
    {
        var items = new List<string>();
        var braces = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '{')
            {
                braces++;
            }
            else if (text[i] == '}')
            {
                braces--;
            }
            else if (text[i] == ',' && braces <= 0)
            {
                items.Add(text[start..i].Trim());
                start = i + 1;
            }
        }

        items.Add(text[start..].Trim());
        return items;
    }

    private static List<string> Unbrace(string item)
    {
        var trimmed = item.Trim();
        if (trimmed.StartsWith('{') && trimmed.EndsWith('}'))
        {
            return trimmed[1..^1].Split(',').Select(v => v.Trim()).ToList();
        }

        return [trimmed];
    }

    private static bool TryParseSequenceNumber(string text, out long value)
    {
        var negative = text.StartsWith('-');
        var digits = negative ? text[1..] : text;
        bool ok;
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            ok = long.TryParse(digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
        else
        {
            ok = long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        }

        if (ok && value > int.MaxValue)
        {
            ok = false;
        }

        value = negative ? -value : value;
        return ok;
    }

    /// <summary>
    /// Replaces defined <c>$NAME</c> (when followed by whitespace or the end) and <c>${NAME}</c>, re-scanning the
    /// replacement because values may refer to other definitions. Undefined names stay as they are, as in keepalived.
    /// </summary>
    private MappedText? Substitute(MappedText line)
    {
        if (line.Text.IndexOf('$') < 0)
        {
            return line;
        }

        var current = line;
        for (var round = 0; round <= _options.MaxExpansionDepth; round++)
        {
            var (next, changed) = SubstituteOnce(current);
            if (!changed || next.Text == current.Text)
            {
                return current;
            }

            if (next.Length > 1_000_000)
            {
                _diagnostics.Error(line.LocationAt(0), "substitution produces a line longer than 1,000,000 characters");
                return null;
            }

            current = next;
        }

        _diagnostics.Error(line.LocationAt(0), $"substitution still changes the line after {_options.MaxExpansionDepth} rounds (recursive definition?)");
        return null;
    }

    private (MappedText Result, bool Changed) SubstituteOnce(MappedText line)
    {
        var text = line.Text;
        var builder = new MappedText.Builder(line.File, line.Line);
        var changed = false;
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] != '$' || i + 1 >= text.Length)
            {
                builder.Append(text[i], line.ColumnAt(i));
                i++;
                continue;
            }

            string? name;
            string? argument = null;
            int end;
            if (text[i + 1] == '{')
            {
                var close = text.IndexOf('}', i + 2);
                if (close < 0)
                {
                    builder.Append(text[i], line.ColumnAt(i));
                    i++;
                    continue;
                }

                var inner = text[(i + 2)..close].Trim();
                var space = inner.IndexOf(' ');
                name = space < 0 ? inner : inner[..space];
                argument = space < 0 ? null : inner[(space + 1)..];
                end = close + 1;
            }
            else
            {
                end = i + 1;
                while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
                {
                    end++;
                }

                name = text[(i + 1)..end];
                if (end < text.Length && !char.IsWhiteSpace(text[end]))
                {
                    name = null;
                }
            }

            var value = name is null ? null : Lookup(name, argument);
            if (value is null)
            {
                builder.Append(text[i], line.ColumnAt(i));
                i++;
                continue;
            }

            builder.Append(value, line.ColumnAt(i));
            changed = true;
            i = end;
        }

        return (builder.Build(), changed);
    }

    private string? Lookup(string name, string? argument)
    {
        switch (name)
        {
            case "_PWD":
                return Path.GetDirectoryName(_fileStack.Peek()) ?? "/";
            case "_INSTANCE":
                return _options.ConfigId;
            case "_HASH":
                return "#";
            case "_BANG":
                return "!";
            case "_RANDOM":
                var bounds = (argument ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var min = bounds.Length > 0 && int.TryParse(bounds[0], CultureInfo.InvariantCulture, out var a) ? a : 0;
                var max = bounds.Length > 1 && int.TryParse(bounds[1], CultureInfo.InvariantCulture, out var b) ? b : 32767;
                return max < min ? min.ToString(CultureInfo.InvariantCulture) : _random.NextInt64(min, (long)max + 1).ToString(CultureInfo.InvariantCulture);
        }

        if (!_definitions.TryGetValue(name, out var definition))
        {
            return null;
        }

        return definition.Value?.Text ?? string.Join(' ', definition.Lines!.Select(l => l.Text));
    }

    /// <summary>
    /// Cuts the line at the first <c>#</c> or <c>!</c> outside quotes. keepalived provides ${_HASH}/${_BANG} for
    /// literal ones, so a bare one always starts a comment.
    /// </summary>
    private static MappedText StripComment(MappedText line)
    {
        var text = line.Text;
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == quote)
                {
                    quote = '\0';
                }

                continue;
            }

            if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c is '#' or '!')
            {
                return line.Slice(0, i);
            }
        }

        return line;
    }

    [GeneratedRegex(@"^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$", RegexOptions.Singleline)]
    private static partial Regex DefinitionPattern();

    [GeneratedRegex(@"^(?:\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*))$")]
    private static partial Regex WholeLineReference();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableName();

    /// <summary>A definition is either one value or, for multi-line definitions, several lines.</summary>
    private sealed record Definition(MappedText? Value, IReadOnlyList<MappedText>? Lines);
}
