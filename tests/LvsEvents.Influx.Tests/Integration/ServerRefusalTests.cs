using LvsEvents.Influx.Tests.Support;
using LvsEvents.TestInfrastructure;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Influx.Tests.Integration;

/// <summary>4xx answers from the real server: counted as rejected, logged once per batch, never retried.</summary>
public sealed class ServerRefusalTests
{
    private const int RefusedEventId = 2;
    private static readonly Dictionary<string, string> QuickFlush = new() { ["FlushInterval"] = "00:00:00.100" };

    [Fact]
    public async Task A_field_type_conflict_rejects_only_that_point_and_later_writes_still_succeed()
    {
        var connectionString = await TestServers.InfluxDbAsync();
        var measurement = WriterHarness.UniqueName("conflict");
        var now = DateTimeOffset.UtcNow;
        await using var harness = await WriterHarness.StartAsync(connectionString, QuickFlush);
        var writer = harness.Writer;

        Assert.True(writer.TryWrite(new InfluxPoint(measurement, null, [new("v", 1L)], now)));
        await Eventually.StatusAsync(writer, status => status.Written == 1);

        // "v" is an integer now; a string "v" is refused, the integer in the same batch is stored (a partial write).
        Assert.True(writer.TryWrite(new InfluxPoint(measurement, null, [new("v", "text")], now.AddSeconds(1))));
        Assert.True(writer.TryWrite(new InfluxPoint(measurement, null, [new("v", 2L)], now.AddSeconds(2))));
        await Eventually.StatusAsync(writer, status => status.Written + status.Rejected == 3);

        Assert.True(writer.TryWrite(new InfluxPoint(measurement, null, [new("v", 3L)], now.AddSeconds(3))));
        await Eventually.StatusAsync(writer, status => status.Written == 3);

        var status = writer.GetStatus();
        Assert.Equal((3, 1, 0, 0), (status.Written, status.Rejected, status.Retries, status.Abandoned));
        Assert.Contains("field type conflict", status.LastError);
        var refusal = Assert.Single(harness.Logs.From<InfluxMetricsWriter>(), entry => entry.EventId.Id == RefusedEventId);
        Assert.Equal(LogLevel.Warning, refusal.Level);
        Assert.Equal("400", refusal.Values["StatusCode"]);
        Assert.Equal("1", refusal.Values["RefusedPoints"]);
        Assert.Contains("field type conflict", refusal.Values["InfluxError"]);

        var series = Assert.Single(await WriterHarness.QueryClient(connectionString)
            .QueryAsync($"SELECT \"v\" FROM \"{measurement}\"", CancellationToken.None));
        Assert.Equal([1L, 2L, 3L], series.Values.Select(row => row[1].GetInt64()));
    }

    [Fact]
    public async Task A_missing_database_rejects_the_whole_batch_without_retrying()
    {
        var configured = InfluxEndpoint.Parse(await TestServers.InfluxDbAsync());
        var missingDatabase = WriterHarness.UniqueName("missing");
        var connectionString = $"Url={configured.Url};Database={missingDatabase};Username={configured.Username};Password={configured.Password}";
        await using var harness = await WriterHarness.StartAsync(connectionString, QuickFlush);

        for (var i = 0; i < 3; i++)
        {
            Assert.True(harness.Writer.TryWrite(new InfluxPoint("m", null, [new("v", (long)i)], DateTimeOffset.UtcNow)));
        }

        await Eventually.StatusAsync(harness.Writer, status => status.Rejected == 3);
        await Task.Delay(300); // a retry, had one been scheduled, would show by now

        var status = harness.Writer.GetStatus();
        Assert.Equal((0, 3, 0), (status.Written, status.Rejected, status.Retries));
        Assert.StartsWith("InfluxDB answered 404 (NotFound): ", status.LastError);
        Assert.Contains("database not found", status.LastError);
    }

    [Fact]
    public async Task A_wrong_password_is_rejected_and_appears_in_no_log()
    {
        var configured = InfluxEndpoint.Parse(await TestServers.InfluxDbAsync());
        var wrongPassword = $"wrong-{Guid.NewGuid():N}";
        var connectionString = $"Url={configured.Url};Database={configured.Database};Username={configured.Username};Password={wrongPassword}";
        var harness = await WriterHarness.StartAsync(connectionString, QuickFlush);

        Assert.True(harness.Writer.TryWrite(new InfluxPoint("m", null, [new("v", 1L)], DateTimeOffset.UtcNow)));
        await Eventually.StatusAsync(harness.Writer, status => status.Rejected == 1);
        await harness.DisposeAsync();

        Assert.StartsWith("InfluxDB answered 401 (Unauthorized): ", harness.Writer.GetStatus().LastError);
        Assert.DoesNotContain(wrongPassword, harness.Writer.GetStatus().LastError);
        harness.Logs.AssertNoneContain(wrongPassword, connectionString, InfluxEndpoint.Parse(connectionString).Authorization!.Parameter!);
    }
}
