namespace LvsEvents.Bench;

/// <summary><c>--name value</c> pairs with defaults; an unknown or malformed one is an error naming it.</summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public BenchArguments(string[] args, params string[] known)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || !known.Contains(name[2..]) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"unexpected argument '{name}' (known: {string.Join(", ", known.Select(k => "--" + k))}, each with a value)");
            }

            _values[name[2..]] = args[++i];
        }
    }

    public string Text(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public int Number(string name, int fallback) =>
        _values.TryGetValue(name, out var text)
            ? int.TryParse(text, out var value) && value >= 0 ? value : throw new ArgumentException($"--{name} takes a whole number, not '{text}'")
            : fallback;
}
