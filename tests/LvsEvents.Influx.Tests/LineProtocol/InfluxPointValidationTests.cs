using Xunit;

namespace LvsEvents.Influx.Tests.LineProtocol;

public sealed class InfluxPointValidationTests
{
    private static readonly DateTimeOffset Now = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    [Fact]
    public void A_point_without_fields_is_rejected_naming_the_measurement()
    {
        var exception = Assert.Throws<ArgumentException>(() => new InfluxPoint("vip_connections", [new("vip", "a")], [], Now));

        Assert.Equal("fields", exception.ParamName);
        Assert.StartsWith("Point 'vip_connections' has no fields", exception.Message);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void Non_finite_floats_are_rejected_naming_measurement_and_field(double value, string shown)
    {
        var exception = Assert.Throws<ArgumentException>(() => new InfluxPoint("latency", null, [new("p99", value)], Now));

        Assert.StartsWith(
            $"Point 'latency': field 'p99' is {shown}; InfluxDB rejects NaN and infinite values.",
            exception.Message);
    }

    [Theory]
    [InlineData("a\nb", "contains a line feed")]
    [InlineData("", "is empty")]
    [InlineData("#comment", "starts with '#'")]
    [InlineData(@"trailing\", "ends with a backslash")]
    [InlineData(@"a\,b", "has a backslash directly before ','")]
    [InlineData(@"a\ b", "has a backslash directly before ' '")]
    public void Unwritable_measurement_names_are_rejected(string measurement, string problem)
    {
        var exception = Assert.Throws<ArgumentException>(() => new InfluxPoint(measurement, null, [new("f", 1L)], Now));

        Assert.StartsWith($"Measurement name '{measurement}' {problem}", exception.Message);
    }

    [Fact]
    public void A_backslash_before_an_equals_sign_is_fine_in_a_measurement()
    {
        var point = new InfluxPoint(@"a\=b", null, [new("f", 1L)], Now);

        Assert.Equal(@"a\=b", point.Measurement);
    }

    [Theory]
    [InlineData("two\nlines", "contains a line feed")]
    [InlineData(@"trailing\", "ends with a backslash")]
    [InlineData(@"a\=b", "has a backslash directly before '='")]
    [InlineData(@"a\,b", "has a backslash directly before ','")]
    [InlineData(@"a\ b", "has a backslash directly before ' '")]
    public void Unwritable_tag_values_are_rejected(string value, string problem)
    {
        var exception = Assert.Throws<ArgumentException>(() => new InfluxPoint("m", [new("vip", value)], [new("f", 1L)], Now));

        Assert.StartsWith($"Point 'm': the value of tag 'vip' {problem}", exception.Message);
    }

    [Theory]
    [InlineData("time", "is 'time', which InfluxDB reserves")]
    [InlineData("", "is empty")]
    [InlineData("a\nb", "contains a line feed")]
    [InlineData(@"k\", "ends with a backslash")]
    public void Unwritable_tag_keys_are_rejected(string key, string problem)
    {
        var exception = Assert.Throws<ArgumentException>(() => new InfluxPoint("m", [new(key, "v")], [new("f", 1L)], Now));

        Assert.StartsWith($"Point 'm': tag key '{key}' {problem}", exception.Message);
    }

    [Theory]
    [InlineData("time", "is 'time', which InfluxDB reserves")]
    [InlineData("", "is empty")]
    [InlineData("a\nb", "contains a line feed")]
    [InlineData(@"k\=", "has a backslash directly before '='")]
    public void Unwritable_field_keys_are_rejected(string key, string problem)
    {
        var exception = Assert.Throws<ArgumentException>(() => new InfluxPoint("m", null, [new(key, 1L)], Now));

        Assert.StartsWith($"Point 'm': field key '{key}' {problem}", exception.Message);
    }

    [Fact]
    public void Duplicate_tag_keys_are_rejected()
    {
        var exception = Assert.Throws<ArgumentException>(
            () => new InfluxPoint("m", [new("vip", "a"), new("vip", "b")], [new("f", 1L)], Now));

        Assert.StartsWith("Point 'm' has tag key 'vip' more than once.", exception.Message);
    }

    [Fact]
    public void Duplicate_field_keys_are_rejected()
    {
        var exception = Assert.Throws<ArgumentException>(() => new InfluxPoint("m", null, [new("f", 1L), new("f", 2L)], Now));

        Assert.StartsWith("Point 'm' has field key 'f' more than once.", exception.Message);
    }

    [Theory]
    [InlineData("2262-04-12T00:00:00+00:00")]
    [InlineData("1677-09-20T00:00:00+00:00")]
    public void Timestamps_outside_int64_nanoseconds_are_rejected(string timestamp)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new InfluxPoint(
            "m",
            null,
            [new("f", 1L)],
            DateTimeOffset.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Contains("Point 'm': the timestamp is outside the range InfluxDB can store", exception.Message);
    }

    [Fact]
    public void The_last_writable_instant_is_accepted()
    {
        var point = new InfluxPoint("m", null, [new("f", 1L)], new DateTimeOffset(2262, 4, 11, 23, 47, 16, TimeSpan.Zero));

        Assert.Equal(9223372036000000000, point.UnixNanoseconds);
    }

    [Fact]
    public void A_field_value_refuses_to_be_read_as_another_kind()
    {
        InfluxFieldValue value = 3L;

        var exception = Assert.Throws<InvalidOperationException>(() => value.AsFloat());
        Assert.Equal("The field value is Integer, not Float.", exception.Message);
    }
}
