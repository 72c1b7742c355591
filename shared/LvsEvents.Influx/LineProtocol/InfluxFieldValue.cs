namespace LvsEvents.Influx;

/// <summary>
/// One typed field value. The type decides the line protocol encoding (<c>5i</c>, <c>5</c>, <c>true</c>, <c>"5"</c>),
/// and InfluxDB fixes a field's type on first write, so the type is explicit rather than inferred from an object.
/// </summary>
public readonly record struct InfluxFieldValue
{
    private readonly long _integer;
    private readonly double _float;
    private readonly bool _boolean;
    private readonly string? _string;

    private InfluxFieldValue(InfluxFieldKind kind, long integer, double @float, bool boolean, string? @string)
    {
        Kind = kind;
        _integer = integer;
        _float = @float;
        _boolean = boolean;
        _string = @string;
    }

    public InfluxFieldKind Kind { get; }

    public static InfluxFieldValue Integer(long value) => new(InfluxFieldKind.Integer, value, 0, false, null);

    /// <summary>NaN and infinities are accepted here and rejected by <see cref="InfluxPoint"/>, whose message can name the field.</summary>
    public static InfluxFieldValue Float(double value) => new(InfluxFieldKind.Float, 0, value, false, null);

    public static InfluxFieldValue Boolean(bool value) => new(InfluxFieldKind.Boolean, 0, 0, value, null);

    public static InfluxFieldValue String(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(InfluxFieldKind.String, 0, 0, false, value);
    }

    public static implicit operator InfluxFieldValue(long value) => Integer(value);

    public static implicit operator InfluxFieldValue(int value) => Integer(value);

    public static implicit operator InfluxFieldValue(double value) => Float(value);

    public static implicit operator InfluxFieldValue(bool value) => Boolean(value);

    public static implicit operator InfluxFieldValue(string value) => String(value);

    public long AsInteger() => Kind == InfluxFieldKind.Integer ? _integer : throw WrongKind(InfluxFieldKind.Integer);

    public double AsFloat() => Kind == InfluxFieldKind.Float ? _float : throw WrongKind(InfluxFieldKind.Float);

    public bool AsBoolean() => Kind == InfluxFieldKind.Boolean ? _boolean : throw WrongKind(InfluxFieldKind.Boolean);

    public string AsString() => Kind == InfluxFieldKind.String ? _string! : throw WrongKind(InfluxFieldKind.String);

    public override string ToString() => Kind switch
    {
        InfluxFieldKind.Integer => _integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        InfluxFieldKind.Float => _float.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        InfluxFieldKind.Boolean => _boolean ? "true" : "false",
        _ => _string ?? string.Empty,
    };

    private InvalidOperationException WrongKind(InfluxFieldKind requested) =>
        new($"The field value is {Kind}, not {requested}.");
}
