using LvsEvents.Influx.Tests.Support;

namespace LvsEvents.Influx.Tests.Integration;

/// <summary>A writer pointed at a closed loopback port: connection errors are retried, overflow is dropped and counted.</summary>
public sealed class UnreachableServerTests
{
    private const int RetryingEventId = 3;
    private const int AbandonedEventId = 5;
    private const int ShutdownCutShortEventId = 6;

    [Fact]
    public async Task It_retries_then_drops_new_points_once_the_buffer_is_full_and_abandons_the_rest_at_shutdown()
    {
        var port = WriterHarness.ClosedLoopbackPort();
        var harness = await WriterHarness.StartAsync(
            $"Url=http://127.0.0.1:{port};Database=lvsevents;Username=u;Password=unreachable-secret",
            new Dictionary<string, string>
            {
                ["BufferCapacity"] = "10",
                ["MaxBatchSize"] = "5",
                ["FlushInterval"] = "00:00:00.050",
                ["RetryInitialDelay"] = "00:00:00.050",
                ["RetryMaxDelay"] = "00:00:00.100",
                ["MaxRetryAttempts"] = "1000",
                ["ShutdownFlushTimeout"] = "00:00:00.300",
            });
        var writer = harness.Writer;

        var point = new InfluxPoint("m", null, [new("v", 1L)], DateTimeOffset.UtcNow);
        var accepted = Enumerable.Range(0, 50).Count(_ => writer.TryWrite(point));
        await Eventually.StatusAsync(writer, status => status.Retries >= 3);

        // The loop is stuck retrying one batch (1 to 5 points it took out); fill what is left of the buffer.
        accepted += Enumerable.Range(0, 20).Count(_ => writer.TryWrite(point));
        Assert.False(writer.TryWrite(point));

        var during = writer.GetStatus();
        Assert.Equal(10, during.Buffered);
        Assert.InRange(accepted - during.Buffered, 1, 5);
        Assert.Equal((0, 71 - accepted, 0, 0), (during.Written, during.Dropped, during.Rejected, during.Abandoned));
        Assert.StartsWith($"Cannot reach InfluxDB at http://127.0.0.1:{port}/: ", during.LastError);

        await harness.DisposeAsync();

        var after = writer.GetStatus();
        Assert.Equal((0, accepted, 0), (after.Written, after.Abandoned, after.Buffered));
        Assert.False(writer.TryWrite(new InfluxPoint("m", null, [new("v", 100L)], DateTimeOffset.UtcNow)));
        Assert.Equal(72 - accepted, writer.GetStatus().Dropped);

        var writerLogs = harness.Logs.From<InfluxMetricsWriter>();
        Assert.Single(writerLogs, entry => entry.EventId.Id == RetryingEventId); // later retries of the batch log at Debug
        var cutShort = Assert.Single(writerLogs, entry => entry.EventId.Id == ShutdownCutShortEventId);
        Assert.Equal(accepted.ToString(System.Globalization.CultureInfo.InvariantCulture), cutShort.Values["AbandonedPoints"]);
        harness.Logs.AssertNoneContain("unreachable-secret");
    }

    [Fact]
    public async Task It_gives_up_on_a_batch_after_the_retry_limit_and_keeps_going()
    {
        var port = WriterHarness.ClosedLoopbackPort();
        await using var harness = await WriterHarness.StartAsync(
            $"Url=http://127.0.0.1:{port};Database=lvsevents",
            new Dictionary<string, string>
            {
                ["FlushInterval"] = "00:00:00.020",
                ["RetryInitialDelay"] = "00:00:00.020",
                ["RetryMaxDelay"] = "00:00:00.040",
                ["MaxRetryAttempts"] = "2",
            });
        var writer = harness.Writer;

        for (var i = 0; i < 3; i++)
        {
            Assert.True(writer.TryWrite(new InfluxPoint("m", null, [new("v", (long)i)], DateTimeOffset.UtcNow)));
        }

        await Eventually.StatusAsync(writer, status => status.Abandoned == 3);
        Assert.Equal(2, writer.GetStatus().Retries);

        Assert.True(writer.TryWrite(new InfluxPoint("m", null, [new("v", 3L)], DateTimeOffset.UtcNow)));
        await Eventually.StatusAsync(writer, status => status.Abandoned == 4);

        var status = writer.GetStatus();
        Assert.Equal((0, 0, 4, 0), (status.Written, status.Rejected, status.Retries, status.Dropped));
        var abandoned = harness.Logs.From<InfluxMetricsWriter>().Where(entry => entry.EventId.Id == AbandonedEventId).ToList();
        Assert.Equal(["3", "1"], abandoned.Select(entry => entry.Values["BatchSize"]));
        Assert.All(abandoned, entry => Assert.Equal("3", entry.Values["Attempts"]));
    }

    [Fact]
    public async Task The_token_of_a_2x_endpoint_appears_in_no_log()
    {
        var port = WriterHarness.ClosedLoopbackPort();
        var token = $"token-{Guid.NewGuid():N}";
        var connectionString = $"Url=http://127.0.0.1:{port};Org=lvs;Bucket=metrics;Token={token}";
        var harness = await WriterHarness.StartAsync(
            connectionString,
            new Dictionary<string, string>
            {
                ["FlushInterval"] = "00:00:00.020",
                ["RetryInitialDelay"] = "00:00:00.020",
                ["RetryMaxDelay"] = "00:00:00.040",
                ["MaxRetryAttempts"] = "1",
            });

        Assert.True(harness.Writer.TryWrite(new InfluxPoint("m", null, [new("v", 1L)], DateTimeOffset.UtcNow)));
        await Eventually.StatusAsync(harness.Writer, status => status.Abandoned == 1);
        await harness.DisposeAsync();

        Assert.Contains(harness.Logs.From<InfluxMetricsWriter>(), entry => entry.EventId.Id == 1 && entry.Values["Target"] == "lvs/metrics");
        harness.Logs.AssertNoneContain(token, connectionString);
    }
}
