using Xunit;

namespace LvsEvents.Influx.Tests.LineProtocol;

public sealed class LineProtocolEncoderTests
{
    private static readonly DateTimeOffset OneSecondAfterEpoch = DateTimeOffset.UnixEpoch.AddSeconds(1);

    private static string EncodeWithField(InfluxFieldValue value) =>
        LineProtocolEncoder.Encode(new InfluxPoint("m", null, [new("f", value)], OneSecondAfterEpoch));

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData("cpu load", @"cpu\ load")]
    [InlineData("cpu,load", @"cpu\,load")]
    [InlineData("a=b", "a=b")] // '=' needs no escape in a measurement
    [InlineData("say\"hi\"", "say\"hi\"")]
    [InlineData(@"back\slash", @"back\slash")]
    [InlineData("tab\there", "tab\there")]
    public void Measurement_escapes_commas_and_spaces_only(string measurement, string expected)
    {
        var line = LineProtocolEncoder.Encode(new InfluxPoint(measurement, null, [new("f", 1L)], OneSecondAfterEpoch));

        Assert.Equal($"{expected} f=1i 1000000000", line);
    }

    [Theory]
    [InlineData("host", "host")]
    [InlineData("ho st", @"ho\ st")]
    [InlineData("ho,st", @"ho\,st")]
    [InlineData("ho=st", @"ho\=st")]
    [InlineData("a, =b", @"a\,\ \=b")]
    [InlineData("quote\"d", "quote\"d")]
    [InlineData(@"a\b", @"a\b")]
    public void Tag_keys_and_values_escape_commas_equals_and_spaces(string text, string expected)
    {
        var line = LineProtocolEncoder.Encode(
            new InfluxPoint("m", [new(text, text)], [new("f", 1L)], OneSecondAfterEpoch));

        Assert.Equal($"m,{expected}={expected} f=1i 1000000000", line);
    }

    [Theory]
    [InlineData("bytes", "bytes")]
    [InlineData("in bytes", @"in\ bytes")]
    [InlineData("in,bytes", @"in\,bytes")]
    [InlineData("in=bytes", @"in\=bytes")]
    [InlineData("\"q\"", "\"q\"")]
    public void Field_keys_escape_commas_equals_and_spaces(string key, string expected)
    {
        var line = LineProtocolEncoder.Encode(new InfluxPoint("m", null, [new(key, 1L)], OneSecondAfterEpoch));

        Assert.Equal($"m {expected}=1i 1000000000", line);
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData(@"C:\path\", "\"C:\\\\path\\\\\"")]
    [InlineData("\\\"", "\"\\\\\\\"\"")]
    [InlineData("line1\nline2", "\"line1\nline2\"")] // InfluxDB reads a raw line feed inside quotes; "\n" would be stored as two characters
    [InlineData("a, =b", "\"a, =b\"")]
    [InlineData("", "\"\"")]
    public void String_fields_escape_double_quotes_and_backslashes(string value, string expected)
    {
        Assert.Equal($"m f={expected} 1000000000", EncodeWithField(value));
    }

    [Theory]
    [InlineData(0L, "0i")]
    [InlineData(42L, "42i")]
    [InlineData(-42L, "-42i")]
    [InlineData(long.MaxValue, "9223372036854775807i")]
    [InlineData(long.MinValue, "-9223372036854775808i")]
    public void Integers_get_the_i_suffix(long value, string expected)
    {
        Assert.Equal($"m f={expected} 1000000000", EncodeWithField(value));
    }

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(-0.25, "-0.25")]
    [InlineData(5.0, "5")]
    [InlineData(0.1, "0.1")]
    [InlineData(1.0 / 3.0, "0.3333333333333333")]
    [InlineData(1e20, "1E+20")]
    [InlineData(-1.5e-300, "-1.5E-300")]
    [InlineData(double.MaxValue, "1.7976931348623157E+308")]
    [InlineData(double.Epsilon, "5E-324")]
    public void Floats_are_shortest_round_trippable_invariant_text(double value, string expected)
    {
        var line = EncodeWithField(value);

        Assert.Equal($"m f={expected} 1000000000", line);
        Assert.Equal(value, double.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Floats_ignore_the_current_culture()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        try
        {
            // The product runs with invariant globalization, so build a culture with a decimal comma by hand.
            var decimalComma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
            decimalComma.NumberFormat.NumberDecimalSeparator = ",";
            decimalComma.NumberFormat.NegativeSign = "~";
            Thread.CurrentThread.CurrentCulture = decimalComma;

            Assert.Equal("m f=-1.5,g=-3i 1000000000", LineProtocolEncoder.Encode(
                new InfluxPoint("m", null, [new("f", -1.5), new("g", -3L)], OneSecondAfterEpoch)));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Theory]
    [InlineData(true, "true")]
    [InlineData(false, "false")]
    public void Booleans_are_lowercase_words(bool value, string expected)
    {
        Assert.Equal($"m f={expected} 1000000000", EncodeWithField(value));
    }

    [Fact]
    public void Several_fields_are_comma_separated_in_the_given_order()
    {
        var line = LineProtocolEncoder.Encode(new InfluxPoint(
            "m",
            null,
            [new("z", 1L), new("a", 2.5), new("s", "x"), new("b", true)],
            OneSecondAfterEpoch));

        Assert.Equal("m z=1i,a=2.5,s=\"x\",b=true 1000000000", line);
    }

    [Theory]
    [InlineData("1970-01-01T00:00:00.0000001+00:00", "100")]
    [InlineData("2024-01-01T00:00:00+00:00", "1704067200000000000")]
    [InlineData("2024-05-06T07:08:09.1234567+00:00", "1714979289123456700")]
    [InlineData("2024-05-06T09:08:09.1234567+02:00", "1714979289123456700")] // offset is converted to UTC
    [InlineData("1969-12-31T23:59:59+00:00", "-1000000000")]
    public void Timestamps_are_unix_nanoseconds(string timestamp, string expectedNanoseconds)
    {
        var line = LineProtocolEncoder.Encode(
            new InfluxPoint("m", null, [new("f", 1L)], DateTimeOffset.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal($"m f=1i {expectedNanoseconds}", line);
    }

    [Fact]
    public void Tags_are_sorted_by_the_utf8_bytes_of_their_keys()
    {
        var line = LineProtocolEncoder.Encode(new InfluxPoint(
            "m",
            [new("b", "1"), new("\U0001D11E", "2"), new("a", "3"), new("\uFFFD", "4"), new("B", "5"), new("ä", "6")],
            [new("f", 1L)],
            OneSecondAfterEpoch));

        // UTF-16 ordinal order would put U+1D11E (a surrogate pair) before U+FFFD; InfluxDB compares UTF-8 bytes.
        Assert.Equal("m,B=5,a=3,b=1,ä=6,\uFFFD=4,\U0001D11E=2 f=1i 1000000000", line);
    }

    [Fact]
    public void Tags_with_empty_or_null_values_are_left_out()
    {
        var line = LineProtocolEncoder.Encode(new InfluxPoint(
            "m",
            [new("empty", ""), new("kept", "v"), new("null", null)],
            [new("f", 1L)],
            OneSecondAfterEpoch));

        Assert.Equal("m,kept=v f=1i 1000000000", line);
    }

    [Fact]
    public void A_batch_ends_every_line_with_a_line_feed()
    {
        var body = LineProtocolEncoder.EncodeBatch(
        [
            new InfluxPoint("a", null, [new("f", 1L)], OneSecondAfterEpoch),
            new InfluxPoint("b", [new("t", "x")], [new("f", "two\nlines")], OneSecondAfterEpoch),
        ]);

        Assert.Equal("a f=1i 1000000000\nb,t=x f=\"two\nlines\" 1000000000\n", body);
    }

    [Fact]
    public void The_point_prints_as_its_line()
    {
        var point = new InfluxPoint("m", [new("t", "v")], [new("f", 2L)], OneSecondAfterEpoch);

        Assert.Equal("m,t=v f=2i 1000000000", point.ToString());
    }
}
