using LvsEvents.Influx.Tests.Support;
using LvsEvents.TestInfrastructure;

namespace LvsEvents.Influx.Tests.Integration;

public sealed class QueryClientAgainstInfluxDbTests
{
    [Fact]
    public async Task A_syntax_error_throws_with_the_servers_message()
    {
        var query = WriterHarness.QueryClient(await TestServers.InfluxDbAsync());

        var exception = await Assert.ThrowsAsync<InfluxQueryException>(() => query.QueryAsync("SELEKT 1", CancellationToken.None));

        Assert.StartsWith("InfluxDB answered 400 to the query: ", exception.Message);
        Assert.Contains("error parsing query", exception.Message);
    }

    [Fact]
    public async Task A_query_against_an_unknown_database_throws_naming_it()
    {
        var query = WriterHarness.QueryClient(await TestServers.InfluxDbAsync());
        var database = WriterHarness.UniqueName("nodb");

        var exception = await Assert.ThrowsAsync<InfluxQueryException>(
            () => query.QueryAsync("SELECT * FROM m", CancellationToken.None, database));

        Assert.Equal($"InfluxDB refused the query: database not found: {database}", exception.Message);
    }

    [Fact]
    public async Task Several_statements_return_their_series_in_order_with_group_by_tags()
    {
        var connectionString = await TestServers.InfluxDbAsync();
        var measurement = WriterHarness.UniqueName("multi");
        var at = new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero);
        await using (var harness = await WriterHarness.StartAsync(connectionString))
        {
            harness.Writer.TryWrite(new InfluxPoint(measurement, [new("vip", "10.0.0.1")], [new("conns", 5L)], at));
            harness.Writer.TryWrite(new InfluxPoint(measurement, [new("vip", "10.0.0.2")], [new("conns", 7L)], at));
        }

        var series = await WriterHarness.QueryClient(connectionString).QueryAsync(
            $"SELECT \"conns\" FROM \"{measurement}\" GROUP BY \"vip\"; SELECT SUM(\"conns\") FROM \"{measurement}\"",
            CancellationToken.None);

        Assert.Equal(3, series.Count);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], series.Take(2).Select(s => s.Tags["vip"]));
        Assert.Equal([5L, 7L], series.Take(2).Select(s => s.Get(0, "conns").GetInt64()));
        Assert.Equal(12, series[2].Get(0, "sum").GetInt64());
    }
}
