using System.Globalization;

namespace LvsEvents.Health.Checking;

/// <summary>status_code as keepalived takes it: codes and ranges (<c>200</c>, <c>200-299</c>); none given means 2xx.</summary>
public sealed class StatusCodeSet
{
    private readonly (int From, int To)[] _ranges;

    public StatusCodeSet(IEnumerable<string> written)
    {
        _ranges = [.. written.SelectMany(w => w.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).Select(ParseRange)];
        if (_ranges.Length == 0)
        {
            _ranges = [(200, 299)];
        }
    }

    public bool Contains(int status) => _ranges.Any(r => status >= r.From && status <= r.To);

    public override string ToString() => string.Join(",", _ranges.Select(r => r.From == r.To ? $"{r.From}" : $"{r.From}-{r.To}"));

    private static (int, int) ParseRange(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        return dash < 0
            ? (Code(text), Code(text))
            : (Code(text[..dash]), Code(text[(dash + 1)..]));
    }

    private static int Code(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 999
            ? code
            : throw new FormatException($"'{text}' is not an HTTP status code");
}
