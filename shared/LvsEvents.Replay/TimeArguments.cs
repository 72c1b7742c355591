using System.Globalization;

namespace LvsEvents.Replay;

/// <summary>Times on the command line: ISO (<c>2026-11-25T10:00:00Z</c>), relative (<c>-15m</c>, <c>15m</c>, <c>2h</c>, <c>30s</c>, <c>1d</c>: that long ago) or <c>now</c>.</summary>
public static class TimeArguments
{
    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset at)
    {
        at = default;
        if (text == "now")
        {
            at = now;
            return true;
        }

        if (text.Contains('T') || (text.Contains('-') && !text.StartsWith('-')))
        {
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);
        }

        var body = text.TrimStart('-');
        if (body.Length < 2 || !double.TryParse(body[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0)
        {
            return false;
        }

        TimeSpan? ago = body[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => null,
        };
        if (ago is null)
        {
            return false;
        }

        at = now - ago.Value;
        return true;
    }
}
