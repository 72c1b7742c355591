using System.Text;

namespace LvsEvents.Influx;

/// <summary>
/// Escaping rules of the InfluxDB 1.x line protocol, and the names and values it cannot carry at all.
/// </summary>
/// <remarks>
/// InfluxDB 1.x decides whether a separator is escaped by looking only at the character before it, so a
/// backslash directly before a comma, space or equals sign (or at the very end) cannot be written unambiguously;
/// such text is rejected instead of being stored altered. Backslashes elsewhere are stored as they are.
/// </remarks>
internal static class LineProtocolSyntax
{
    private const string MeasurementSpecials = ", ";
    private const string KeyAndTagValueSpecials = ",= ";

    /// <summary>Describes why <paramref name="text"/> cannot be written as <paramref name="element"/>, or null when it can.</summary>
    public static string? FindProblem(LineProtocolElement element, string text)
    {
        if (text.Length == 0)
        {
            return "is empty";
        }

        if (text.Contains('\n'))
        {
            return "contains a line feed, which ends a line in the line protocol";
        }

        if (element == LineProtocolElement.Measurement && text[0] == '#')
        {
            return "starts with '#', which makes InfluxDB read the line as a comment";
        }

        if (element is LineProtocolElement.TagKey or LineProtocolElement.FieldKey && text == "time")
        {
            return "is 'time', which InfluxDB reserves for the timestamp";
        }

        var specials = SpecialsOf(element);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                continue;
            }

            if (i == text.Length - 1)
            {
                return "ends with a backslash, which InfluxDB 1.x would read as escaping the following separator";
            }

            if (specials.Contains(text[i + 1]))
            {
                return $"has a backslash directly before '{text[i + 1]}', which InfluxDB 1.x cannot tell apart from an escape";
            }
        }

        return null;
    }

    public static void AppendEscaped(StringBuilder builder, LineProtocolElement element, string text)
    {
        var specials = SpecialsOf(element);
        foreach (var c in text)
        {
            if (specials.Contains(c))
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }
    }

    /// <summary>
    /// Appends a quoted string field value. Only '"' and '\' are escaped; a line feed is written as it is,
    /// because InfluxDB reads quoted strings across line feeds and does not unescape "\n".
    /// </summary>
    public static void AppendQuotedString(StringBuilder builder, string value)
    {
        builder.Append('"');
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        builder.Append('"');
    }

    private static string SpecialsOf(LineProtocolElement element) =>
        element == LineProtocolElement.Measurement ? MeasurementSpecials : KeyAndTagValueSpecials;
}
