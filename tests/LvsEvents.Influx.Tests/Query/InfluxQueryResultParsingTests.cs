using Xunit;

namespace LvsEvents.Influx.Tests.Query;

public sealed class InfluxQueryResultParsingTests
{
    [Fact]
    public void Series_of_every_statement_are_returned_in_order_with_tags()
    {
        const string body = """
            {"results":[
              {"statement_id":0,"series":[{"name":"a","tags":{"vip":"10.0.0.1"},"columns":["time","v"],"values":[[1,1.5],[2,null]]}]},
              {"statement_id":1},
              {"statement_id":2,"series":[{"name":"b","columns":["time","s"],"values":[[3,"x"]]}]}
            ]}
            """;

        var series = InfluxQueryClient.Parse(body);

        Assert.Equal(["a", "b"], series.Select(s => s.Name));
        Assert.Equal("10.0.0.1", series[0].Tags["vip"]);
        Assert.Equal(1.5, series[0].Get(0, "v").GetDouble());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, series[0].Get(1, "v").ValueKind);
        Assert.Equal("x", series[1].Get(0, "s").GetString());
        Assert.Empty(series[1].Tags);
    }

    [Fact]
    public void A_statement_error_throws_with_the_servers_message()
    {
        var exception = Assert.Throws<InfluxQueryException>(
            () => InfluxQueryClient.Parse("""{"results":[{"statement_id":0,"error":"database not found: x"}]}"""));

        Assert.Equal("InfluxDB refused the query: database not found: x", exception.Message);
    }

    [Fact]
    public void A_top_level_error_throws_with_the_servers_message()
    {
        var exception = Assert.Throws<InfluxQueryException>(
            () => InfluxQueryClient.Parse("""{"error":"error parsing query: found EOF"}"""));

        Assert.Equal("InfluxDB refused the query: error parsing query: found EOF", exception.Message);
    }

    [Fact]
    public void A_body_that_is_not_json_throws()
    {
        Assert.Throws<InfluxQueryException>(() => InfluxQueryClient.Parse("<html>proxy error</html>"));
    }

    [Fact]
    public void Asking_for_a_missing_column_names_the_columns_there_are()
    {
        var series = InfluxQueryClient.Parse("""{"results":[{"series":[{"name":"a","columns":["time","v"],"values":[[1,2]]}]}]}""");

        var exception = Assert.Throws<KeyNotFoundException>(() => series[0].Get(0, "w"));
        Assert.Equal("Series 'a' has no column 'w' (columns: time, v).", exception.Message);
    }
}
