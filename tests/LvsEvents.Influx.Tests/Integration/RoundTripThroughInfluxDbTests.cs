using System.Diagnostics;
using System.Text.Json;
using LvsEvents.Influx.Tests.Support;
using LvsEvents.TestInfrastructure;

namespace LvsEvents.Influx.Tests.Integration;

/// <summary>Points written by <see cref="InfluxMetricsWriter"/> to the real server and read back with InfluxQL.</summary>
public sealed class RoundTripThroughInfluxDbTests
{
    private static readonly Dictionary<string, string> QuickFlush = new() { ["FlushInterval"] = "00:00:00.100" };

    [Fact]
    public async Task Every_escaping_case_and_value_type_comes_back_exactly()
    {
        var connectionString = await TestServers.InfluxDbAsync();
        var id = Guid.NewGuid().ToString("N");
        var measurement = $"round trip,{id}=\"q\"\\x";
        var timestamp = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1_234_567);
        const string awkwardString = "say \"hi\" C:\\path\\ line1\nline2\r\n\ttab, =end ä→𝄞\\";
        var tags = new Dictionary<string, string?>
        {
            ["ta g,=k"] = "va l,u=e",
            ["quote\"key"] = "back\\slash",
            ["unicode"] = "ä→𝄞",
            ["carriage"] = "a\rb",
            ["empty"] = "",
        };
        var fields = new Dictionary<string, InfluxFieldValue>
        {
            ["str"] = awkwardString,
            ["empty_str"] = "",
            ["fi eld,=k"] = 1.0 / 3.0,
            ["f_big"] = 1e20,
            ["f_max"] = double.MaxValue,
            ["f_tiny"] = double.Epsilon,
            ["f_neg"] = -1.5e-300,
            ["f_whole"] = 5.0,
            ["int_max"] = long.MaxValue,
            ["int_min"] = long.MinValue,
            ["int_neg"] = -42L,
            ["yes"] = true,
            ["no"] = false,
        };

        await using (var harness = await WriterHarness.StartAsync(connectionString, QuickFlush))
        {
            Assert.True(harness.Writer.TryWrite(new InfluxPoint(measurement, tags, fields, timestamp)));
            await Eventually.StatusAsync(harness.Writer, status => status.Written == 1);
            Assert.Equal(0, harness.Writer.GetStatus().Rejected);
        }

        var query = WriterHarness.QueryClient(connectionString);
        var series = Assert.Single(await query.QueryAsync($"SELECT * FROM /{id}/", CancellationToken.None));
        Assert.Equal(measurement, series.Name);
        Assert.Equal(
            new[] { "time", "carriage", "quote\"key", "ta g,=k", "unicode" }.Concat(fields.Keys).Order(StringComparer.Ordinal),
            series.Columns.Order(StringComparer.Ordinal));
        Assert.Single(series.Values);

        Assert.Equal(timestamp.ToUnixTimeMilliseconds() * 1_000_000 + 456_700, series.Get(0, "time").GetInt64());
        Assert.Equal("va l,u=e", series.Get(0, "ta g,=k").GetString());
        Assert.Equal("back\\slash", series.Get(0, "quote\"key").GetString());
        Assert.Equal("ä→𝄞", series.Get(0, "unicode").GetString());
        Assert.Equal("a\rb", series.Get(0, "carriage").GetString());
        foreach (var (key, expected) in fields)
        {
            var actual = series.Get(0, key);
            switch (expected.Kind)
            {
                case InfluxFieldKind.String:
                    Assert.Equal(expected.AsString(), actual.GetString());
                    break;
                case InfluxFieldKind.Integer:
                    Assert.Equal(expected.AsInteger(), actual.GetInt64());
                    break;
                case InfluxFieldKind.Float:
                    Assert.Equal(expected.AsFloat(), actual.GetDouble());
                    break;
                case InfluxFieldKind.Boolean:
                    Assert.Equal(expected.AsBoolean(), actual.GetBoolean());
                    break;
            }
        }

        // The server stored each field with the type it was written as (a whole float must not become an integer).
        var fieldKeys = Assert.Single(await query.QueryAsync($"SHOW FIELD KEYS FROM /{id}/", CancellationToken.None));
        var storedTypes = Enumerable.Range(0, fieldKeys.Values.Count)
            .ToDictionary(row => fieldKeys.Get(row, "fieldKey").GetString()!, row => fieldKeys.Get(row, "fieldType").GetString()!);
        var expectedTypes = fields.ToDictionary(
            field => field.Key,
            field => field.Value.Kind switch
            {
                InfluxFieldKind.Integer => "integer",
                InfluxFieldKind.Float => "float",
                InfluxFieldKind.Boolean => "boolean",
                _ => "string",
            });
        Assert.Equal(expectedTypes.OrderBy(pair => pair.Key, StringComparer.Ordinal), storedTypes.OrderBy(pair => pair.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Batches_hold_at_most_the_max_batch_size_and_every_point_arrives_in_order()
    {
        var connectionString = await TestServers.InfluxDbAsync();
        var measurement = WriterHarness.UniqueName("batches");
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        StructuredLogCapture logs;

        // A long flush interval: only a full batch, or the flush on dispose, sends anything.
        await using (var harness = await WriterHarness.StartAsync(
            connectionString,
            new Dictionary<string, string> { ["MaxBatchSize"] = "3", ["FlushInterval"] = "00:10:00" }))
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.True(harness.Writer.TryWrite(new InfluxPoint(measurement, [new("n", $"{i % 2}")], [new("i", (long)i)], start.AddSeconds(i))));
            }

            await Eventually.StatusAsync(harness.Writer, status => status.Written == 9);
            logs = harness.Logs;
        }

        // 3 + 3 + 3, then the last point when the writer is disposed.
        var writeRequests = logs.Entries.Count(entry =>
            entry.Category.EndsWith(".ClientHandler", StringComparison.Ordinal) && entry.EventId.Id == 100);
        Assert.Equal(4, writeRequests);

        var series = Assert.Single(await WriterHarness.QueryClient(connectionString)
            .QueryAsync($"SELECT \"i\" FROM \"{measurement}\"", CancellationToken.None));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), series.Values.Select(row => row[1].GetInt64()));
        Assert.Equal(
            Enumerable.Range(0, 10).Select(i => start.AddSeconds(i).ToUnixTimeMilliseconds() * 1_000_000),
            series.Values.Select(row => row[0].GetInt64()));
    }

    [Fact]
    public async Task A_lone_point_is_sent_once_the_flush_interval_has_passed()
    {
        var connectionString = await TestServers.InfluxDbAsync();
        var flushInterval = TimeSpan.FromMilliseconds(300);
        await using var harness = await WriterHarness.StartAsync(
            connectionString,
            new Dictionary<string, string> { ["FlushInterval"] = flushInterval.ToString() });

        var stopwatch = Stopwatch.StartNew();
        Assert.True(harness.Writer.TryWrite(new InfluxPoint(WriterHarness.UniqueName("lone"), null, [new("v", 1L)], DateTimeOffset.UtcNow)));
        await Eventually.StatusAsync(harness.Writer, status => status.Written == 1, TimeSpan.FromSeconds(5));

        // The loop waits the interval for company before sending (timer resolution allows a little slack).
        Assert.True(stopwatch.Elapsed >= flushInterval * 0.9, $"sent after {stopwatch.Elapsed}, before the {flushInterval} flush interval");
    }

    [Fact]
    public async Task Disposing_flushes_what_is_buffered_without_waiting_for_the_interval()
    {
        var connectionString = await TestServers.InfluxDbAsync();
        var measurement = WriterHarness.UniqueName("dispose_flush");
        var harness = await WriterHarness.StartAsync(connectionString, new Dictionary<string, string> { ["FlushInterval"] = "00:10:00" });
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 100; i++)
        {
            Assert.True(harness.Writer.TryWrite(new InfluxPoint(measurement, null, [new("v", (long)i)], now.AddTicks(i))));
        }

        var stopwatch = Stopwatch.StartNew();
        await harness.DisposeAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"dispose took {stopwatch.Elapsed}");
        var status = harness.Writer.GetStatus();
        Assert.Equal((100, 0, 0), (status.Written, status.Abandoned, status.Buffered));
        var count = Assert.Single(await WriterHarness.QueryClient(connectionString)
            .QueryAsync($"SELECT COUNT(\"v\") FROM \"{measurement}\"", CancellationToken.None));
        Assert.Equal(100, count.Get(0, "count").GetInt64());
    }

    [Fact]
    public async Task Logs_of_a_working_writer_never_show_the_password_or_connection_string()
    {
        var connectionString = await TestServers.InfluxDbAsync();
        var endpoint = InfluxEndpoint.Parse(connectionString);
        StructuredLogCapture logs;
        await using (var harness = await WriterHarness.StartAsync(connectionString, QuickFlush))
        {
            harness.Writer.TryWrite(new InfluxPoint(WriterHarness.UniqueName("logs"), null, [new("v", 1L)], DateTimeOffset.UtcNow));
            await Eventually.StatusAsync(harness.Writer, status => status.Written == 1);
            logs = harness.Logs;
        }

        Assert.NotNull(endpoint.Password);
        Assert.Contains(logs.From<InfluxMetricsWriter>(), entry => entry.EventId.Id == 1 && entry.Values["InfluxUrl"] == endpoint.Url.ToString());
        logs.AssertNoneContain(endpoint.Password, connectionString, endpoint.Authorization!.Parameter!);
    }
}
