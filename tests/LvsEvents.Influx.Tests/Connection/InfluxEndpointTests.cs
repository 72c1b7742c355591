using System.Text;
using Xunit;

namespace LvsEvents.Influx.Tests.Connection;

public sealed class InfluxEndpointTests
{
    [Fact]
    public void A_1x_connection_string_gives_the_write_uri_and_basic_auth()
    {
        var endpoint = InfluxEndpoint.Parse(
            "Url=http://127.0.0.1:8086;Database=lvsevents;RetentionPolicy=two weeks;Username=lvsevents;Password=s3cret");

        Assert.Equal(InfluxApiVersion.V1, endpoint.ApiVersion);
        Assert.Equal("http://127.0.0.1:8086/write?db=lvsevents&rp=two%20weeks&precision=ns", endpoint.WriteUri.AbsoluteUri);
        Assert.Equal("lvsevents", endpoint.QueryDatabase);
        Assert.Equal("Basic", endpoint.Authorization!.Scheme);
        Assert.Equal("lvsevents:s3cret", Encoding.UTF8.GetString(Convert.FromBase64String(endpoint.Authorization.Parameter!)));
    }

    [Fact]
    public void A_1x_connection_string_without_credentials_sends_no_authorization()
    {
        var endpoint = InfluxEndpoint.Parse("Url=http://influx:8086;Database=metrics");

        Assert.Null(endpoint.Authorization);
        Assert.Equal("http://influx:8086/write?db=metrics&precision=ns", endpoint.WriteUri.AbsoluteUri);
    }

    [Fact]
    public void A_2x_connection_string_gives_the_v2_write_uri_and_token_auth()
    {
        var endpoint = InfluxEndpoint.Parse("Url=https://influx.example:8086;Org=my org;Bucket=lvs/events;Token=tok-123");

        Assert.Equal(InfluxApiVersion.V2, endpoint.ApiVersion);
        Assert.Equal(
            "https://influx.example:8086/api/v2/write?org=my%20org&bucket=lvs%2Fevents&precision=ns",
            endpoint.WriteUri.AbsoluteUri);
        Assert.Equal("Token", endpoint.Authorization!.Scheme);
        Assert.Equal("tok-123", endpoint.Authorization.Parameter);
        Assert.Equal("lvs/events", endpoint.QueryDatabase);
    }

    [Fact]
    public void A_path_prefix_in_the_url_is_kept()
    {
        var endpoint = InfluxEndpoint.Parse("Url=http://proxy/influx;Database=db");

        Assert.Equal("http://proxy/influx/write?db=db&precision=ns", endpoint.WriteUri.AbsoluteUri);
    }

    [Fact]
    public void Keys_are_case_insensitive_and_whitespace_around_pairs_is_ignored()
    {
        var endpoint = InfluxEndpoint.Parse(" url = http://h:8086 ; DATABASE=db ; username=u; PASSWORD=p ;");

        Assert.Equal(new Uri("http://h:8086/"), endpoint.Url);
        Assert.Equal("db", endpoint.Database);
        Assert.Equal("u", endpoint.Username);
        Assert.Equal("p", endpoint.Password);
    }

    [Fact]
    public void A_quoted_password_may_contain_semicolons_and_equals_signs()
    {
        var endpoint = InfluxEndpoint.Parse("Url=http://h;Database=db;Username=u;Password=\"a;b=c\"");

        Assert.Equal("a;b=c", endpoint.Password);
    }

    [Fact]
    public void ToString_redacts_the_password()
    {
        var endpoint = InfluxEndpoint.Parse("Url=http://h:8086;Database=db;RetentionPolicy=rp;Username=u;Password=hunter2");

        Assert.Equal("Url=http://h:8086/;Database=db;RetentionPolicy=rp;Username=u;Password=***", endpoint.ToString());
    }

    [Fact]
    public void ToString_redacts_the_token()
    {
        var endpoint = InfluxEndpoint.Parse("Url=http://h:8086;Org=o;Bucket=b;Token=tok-secret");

        Assert.Equal("Url=http://h:8086/;Org=o;Bucket=b;Token=***", endpoint.ToString());
    }

    [Theory]
    [InlineData(null, "the connection string is missing or empty")]
    [InlineData("  ", "the connection string is missing or empty")]
    [InlineData("Database=db", "'Url' is missing")]
    [InlineData("Url=;Database=db", "'Url' is missing")]
    [InlineData("Url=\"\";Database=db", "'Url' is empty")]
    [InlineData("Url=/relative;Database=db", "'Url' is not an absolute http:// or https:// URL")]
    [InlineData("Url=ftp://h;Database=db", "'Url' is not an absolute http:// or https:// URL")]
    [InlineData("Url=http://u:pw@h;Database=db", "'Url' must not contain credentials; use 'Username'/'Password' or 'Token'")]
    [InlineData("Url=http://h/?db=x;Database=db", "'Url' must not have a query string or fragment")]
    [InlineData("Url=http://h", "'Database' is missing (or give 'Org', 'Bucket' and 'Token' for InfluxDB 2.x)")]
    [InlineData("Url=http://h;Database=db;Password=p", "'Password' is given without 'Username'")]
    [InlineData("Url=http://h;Database=db;Username=u", "'Username' is given without 'Password'")]
    [InlineData("Url=http://h;Org=o;Bucket=b", "'Token' is missing (needed with 'Org' and 'Bucket' for InfluxDB 2.x)")]
    [InlineData("Url=http://h;Bucket=b;Token=t", "'Org' is missing (needed with 'Bucket' and 'Token' for InfluxDB 2.x)")]
    [InlineData("Url=http://h;Org=o;Token=t", "'Bucket' is missing (needed with 'Org' and 'Token' for InfluxDB 2.x)")]
    [InlineData("Url=http://h;Database=db;Org=o;Bucket=b;Token=t", "'Org', 'Bucket' and 'Token' (InfluxDB 2.x) cannot be combined with 'Database', 'RetentionPolicy', 'Username' or 'Password' (InfluxDB 1.x)")]
    [InlineData("Url=http://h;Database=db;Server=x", "'server' is not a known key (expected Url, Database, RetentionPolicy, Username, Password, Org, Bucket, Token)")]
    [InlineData("just some text", "it is not a list of key=value pairs separated by ';'")]
    public void Invalid_connection_strings_are_refused_naming_the_setting_and_the_field(string? connectionString, string problem)
    {
        var exception = Assert.Throws<FormatException>(() => InfluxEndpoint.Parse(connectionString));

        Assert.Equal($"ConnectionStrings:influxdb: {problem}.", exception.Message);
    }

    [Theory]
    [InlineData("Url=http://h;Database=db;Username=u;Password=\"unterminated-secret")]
    [InlineData("Url=http://h;Database=db;Username=u;Password=p;Pasword=typo-secret")]
    [InlineData("Url=http://h;Org=o;Bucket=b;Token=token-secret;Database=db")]
    public void Error_messages_never_repeat_secret_values(string connectionString)
    {
        var exception = Assert.Throws<FormatException>(() => InfluxEndpoint.Parse(connectionString));

        Assert.DoesNotContain("secret", exception.Message, StringComparison.OrdinalIgnoreCase);
    }
}
