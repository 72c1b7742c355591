namespace LvsEvents.Influx;

/// <summary>
/// One point: measurement, tags, fields and timestamp, validated on construction so that every point that
/// exists can be encoded and accepted by InfluxDB 1.x.
/// </summary>
/// <remarks>
/// Tags with an empty or null value are left out (InfluxDB does not store empty tag values). Tags are kept
/// sorted by key, as InfluxDB recommends for write performance. Fields keep the order given.
/// The timestamp is required: points are buffered before they are sent, so the server's arrival time would be
/// late by up to a flush interval.
/// </remarks>
public sealed class InfluxPoint
{
    // InfluxDB stores int64 nanoseconds and reserves the two extreme values.
    private const long MaxTicksFromEpoch = (long.MaxValue - 1) / 100;
    private const long MinTicksFromEpoch = -MaxTicksFromEpoch;

    public InfluxPoint(
        string measurement,
        IEnumerable<KeyValuePair<string, string?>>? tags,
        IEnumerable<KeyValuePair<string, InfluxFieldValue>> fields,
        DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        ArgumentNullException.ThrowIfNull(fields);

        var measurementProblem = LineProtocolSyntax.FindProblem(LineProtocolElement.Measurement, measurement);
        if (measurementProblem is not null)
        {
            throw new ArgumentException($"Measurement name '{measurement}' {measurementProblem}.", nameof(measurement));
        }

        Measurement = measurement;
        Tags = ValidateTags(measurement, tags);
        Fields = ValidateFields(measurement, fields);

        var ticksFromEpoch = timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        if (ticksFromEpoch is < MinTicksFromEpoch or > MaxTicksFromEpoch)
        {
            throw new ArgumentOutOfRangeException(
                nameof(timestamp),
                timestamp,
                $"Point '{measurement}': the timestamp is outside the range InfluxDB can store (1677-09-21 to 2262-04-11).");
        }

        Timestamp = timestamp;
        UnixNanoseconds = ticksFromEpoch * 100;
    }

    public string Measurement { get; }

    /// <summary>Tags with non-empty values, sorted by key.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; }

    public IReadOnlyList<KeyValuePair<string, InfluxFieldValue>> Fields { get; }

    public DateTimeOffset Timestamp { get; }

    /// <summary>The timestamp as nanoseconds since the Unix epoch, the precision this module writes with.</summary>
    public long UnixNanoseconds { get; }

    /// <summary>The point as one line of line protocol, without a trailing line feed.</summary>
    public override string ToString() => LineProtocolEncoder.Encode(this);

    private static KeyValuePair<string, string>[] ValidateTags(
        string measurement,
        IEnumerable<KeyValuePair<string, string?>>? tags)
    {
        if (tags is null)
        {
            return [];
        }

        var kept = new List<KeyValuePair<string, string>>();
        var seenKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            if (key is null)
            {
                throw new ArgumentException($"Point '{measurement}' has a tag with a null key.", nameof(tags));
            }

            var keyProblem = LineProtocolSyntax.FindProblem(LineProtocolElement.TagKey, key);
            if (keyProblem is not null)
            {
                throw new ArgumentException($"Point '{measurement}': tag key '{key}' {keyProblem}.", nameof(tags));
            }

            if (!seenKeys.Add(key))
            {
                throw new ArgumentException($"Point '{measurement}' has tag key '{key}' more than once.", nameof(tags));
            }

            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            var valueProblem = LineProtocolSyntax.FindProblem(LineProtocolElement.TagValue, value);
            if (valueProblem is not null)
            {
                throw new ArgumentException($"Point '{measurement}': the value of tag '{key}' {valueProblem}.", nameof(tags));
            }

            kept.Add(new(key, value));
        }

        var sorted = kept.ToArray();
        Array.Sort(sorted, (a, b) => Utf8OrdinalComparer.Instance.Compare(a.Key, b.Key));
        return sorted;
    }

    private static KeyValuePair<string, InfluxFieldValue>[] ValidateFields(
        string measurement,
        IEnumerable<KeyValuePair<string, InfluxFieldValue>> fields)
    {
        var kept = new List<KeyValuePair<string, InfluxFieldValue>>();
        var seenKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in fields)
        {
            if (key is null)
            {
                throw new ArgumentException($"Point '{measurement}' has a field with a null key.", nameof(fields));
            }

            var keyProblem = LineProtocolSyntax.FindProblem(LineProtocolElement.FieldKey, key);
            if (keyProblem is not null)
            {
                throw new ArgumentException($"Point '{measurement}': field key '{key}' {keyProblem}.", nameof(fields));
            }

            if (!seenKeys.Add(key))
            {
                throw new ArgumentException($"Point '{measurement}' has field key '{key}' more than once.", nameof(fields));
            }

            if (value.Kind == InfluxFieldKind.Float && !double.IsFinite(value.AsFloat()))
            {
                throw new ArgumentException(
                    $"Point '{measurement}': field '{key}' is {value.AsFloat().ToString(System.Globalization.CultureInfo.InvariantCulture)}; InfluxDB rejects NaN and infinite values.",
                    nameof(fields));
            }

            kept.Add(new(key, value));
        }

        if (kept.Count == 0)
        {
            throw new ArgumentException(
                $"Point '{measurement}' has no fields; InfluxDB requires at least one field per point.",
                nameof(fields));
        }

        return kept.ToArray();
    }
}
