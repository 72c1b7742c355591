namespace LvsEvents.Keepalived.Syntax;

/// <summary>csh-style <c>{a,b}</c> expansion of include patterns, as keepalived's glob(GLOB_BRACE) does.</summary>
internal static class BraceExpansion
{
    private const int MaxResults = 1024;

    public static IReadOnlyList<string> Expand(string pattern)
    {
        var results = new List<string>();
        Expand(pattern, results);
        return results;
    }

    private static void Expand(string pattern, List<string> results)
    {
        if (results.Count >= MaxResults)
        {
            return;
        }

        var open = pattern.IndexOf('{');
        if (open < 0)
        {
            results.Add(pattern);
            return;
        }

        var depth = 0;
        var alternatives = new List<string>();
        var start = open + 1;
        for (var i = open; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '{':
                    depth++;
                    break;
                case '}':
                    depth--;
                    if (depth == 0)
                    {
                        alternatives.Add(pattern[start..i]);
                        var prefix = pattern[..open];
                        var suffix = pattern[(i + 1)..];
                        foreach (var alternative in alternatives)
                        {
                            Expand(prefix + alternative + suffix, results);
                        }

                        return;
                    }

                    break;
                case ',' when depth == 1:
                    alternatives.Add(pattern[start..i]);
                    start = i + 1;
                    break;
            }
        }

        // An unbalanced brace is a literal character, as in glob().
        results.Add(pattern);
    }
}
