using System.Text;
using System.Text.RegularExpressions;

namespace LvsEvents.Keepalived.Syntax;

/// <summary>Expands one include pattern (already brace-expanded) to the sorted list of existing files it names.</summary>
internal static class GlobMatcher
{
    public static bool HasWildcards(string pattern) => pattern.IndexOfAny(['*', '?', '[']) >= 0;

    public static IReadOnlyList<string> Match(string absolutePattern, IConfigurationFileSystem fileSystem)
    {
        var segments = absolutePattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { "/" };
        foreach (var segment in segments)
        {
            var next = new List<string>();
            foreach (var directory in current)
            {
                if (!HasWildcards(segment))
                {
                    next.Add(Path.Combine(directory, segment));
                    continue;
                }

                var regex = SegmentRegex(segment);
                foreach (var entry in fileSystem.ListEntries(directory))
                {
                    // glob() does not let wildcards match a leading dot.
                    if (entry.StartsWith('.') && !segment.StartsWith('.'))
                    {
                        continue;
                    }

                    if (regex.IsMatch(entry))
                    {
                        next.Add(Path.Combine(directory, entry));
                    }
                }
            }

            current = next;
        }

        return current.Where(fileSystem.FileExists).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    private static Regex SegmentRegex(string segment)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            switch (c)
            {
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    var close = segment.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        sb.Append(@"\[");
                        break;
                    }

                    var set = segment[(i + 1)..close];
                    if (set.StartsWith('!'))
                    {
                        set = "^" + set[1..];
                    }

                    sb.Append('[').Append(set.Replace(@"\", @"\\")).Append(']');
                    i = close;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        sb.Append('$');
        try
        {
            return new Regex(sb.ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            return new Regex("^" + Regex.Escape(segment) + "$", RegexOptions.CultureInvariant);
        }
    }
}
