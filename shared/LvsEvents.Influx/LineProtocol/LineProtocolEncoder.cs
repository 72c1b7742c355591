using System.Globalization;
using System.Text;

namespace LvsEvents.Influx;

/// <summary>Encodes <see cref="InfluxPoint"/>s as InfluxDB line protocol with nanosecond timestamps.</summary>
public static class LineProtocolEncoder
{
    /// <summary>One line, without a trailing line feed.</summary>
    public static string Encode(InfluxPoint point)
    {
        var builder = new StringBuilder(64);
        Append(builder, point);
        return builder.ToString();
    }

    /// <summary>A write request body: one line per point, each ended by a line feed.</summary>
    public static string EncodeBatch(IEnumerable<InfluxPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var builder = new StringBuilder();
        foreach (var point in points)
        {
            Append(builder, point);
            builder.Append('\n');
        }

        return builder.ToString();
    }

    public static void Append(StringBuilder builder, InfluxPoint point)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(point);

        LineProtocolSyntax.AppendEscaped(builder, LineProtocolElement.Measurement, point.Measurement);
        foreach (var (key, value) in point.Tags)
        {
            builder.Append(',');
            LineProtocolSyntax.AppendEscaped(builder, LineProtocolElement.TagKey, key);
            builder.Append('=');
            LineProtocolSyntax.AppendEscaped(builder, LineProtocolElement.TagValue, value);
        }

        var separator = ' ';
        foreach (var (key, value) in point.Fields)
        {
            builder.Append(separator);
            separator = ',';
            LineProtocolSyntax.AppendEscaped(builder, LineProtocolElement.FieldKey, key);
            builder.Append('=');
            AppendFieldValue(builder, value);
        }

        builder.Append(' ');
        builder.Append(point.UnixNanoseconds.ToString(CultureInfo.InvariantCulture));
    }

    private static void AppendFieldValue(StringBuilder builder, InfluxFieldValue value)
    {
        switch (value.Kind)
        {
            case InfluxFieldKind.Integer:
                builder.Append(value.AsInteger().ToString(CultureInfo.InvariantCulture)).Append('i');
                break;
            case InfluxFieldKind.Float:
                // "R" is the shortest text that parses back to the same double; InfluxDB accepts its
                // exponent form ("1E+20", "5E-324"), and a float needs no decimal point without the 'i' suffix.
                builder.Append(value.AsFloat().ToString("R", CultureInfo.InvariantCulture));
                break;
            case InfluxFieldKind.Boolean:
                builder.Append(value.AsBoolean() ? "true" : "false");
                break;
            case InfluxFieldKind.String:
                LineProtocolSyntax.AppendQuotedString(builder, value.AsString());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(value), value.Kind, "Unknown field kind.");
        }
    }
}
