using System.Data.Common;
using System.Net.Http.Headers;
using System.Text;

namespace LvsEvents.Influx;

/// <summary>
/// Where and how to write, parsed from the <c>ConnectionStrings:influxdb</c> setting:
/// <c>Url=http://host:8086;Database=db[;RetentionPolicy=rp][;Username=u;Password=p]</c> for InfluxDB 1.x, or
/// <c>Url=http://host:8086;Org=o;Bucket=b;Token=t</c> for 2.x. Keys are case-insensitive; values holding ';'
/// can be double-quoted. <see cref="ToString"/> never shows the password or token.
/// </summary>
public sealed class InfluxEndpoint
{
    public const string SettingName = "ConnectionStrings:influxdb";
    private const string Redacted = "***";

    private static readonly string[] KnownKeys =
        ["Url", "Database", "RetentionPolicy", "Username", "Password", "Org", "Bucket", "Token"];

    private InfluxEndpoint(
        Uri url,
        InfluxApiVersion apiVersion,
        string? database,
        string? retentionPolicy,
        string? username,
        string? password,
        string? org,
        string? bucket,
        string? token)
    {
        Url = url;
        ApiVersion = apiVersion;
        Database = database;
        RetentionPolicy = retentionPolicy;
        Username = username;
        Password = password;
        Org = org;
        Bucket = bucket;
        Token = token;
    }

    public Uri Url { get; }

    public InfluxApiVersion ApiVersion { get; }

    public string? Database { get; }

    public string? RetentionPolicy { get; }

    public string? Username { get; }

    public string? Password { get; }

    public string? Org { get; }

    public string? Bucket { get; }

    public string? Token { get; }

    /// <summary>The write URI, nanosecond precision. Credentials never go in it (they would end up in logs).</summary>
    public Uri WriteUri => ApiVersion == InfluxApiVersion.V1
        ? Resolve("write", ("db", Database!), ("rp", RetentionPolicy), ("precision", "ns"))
        : Resolve("api/v2/write", ("org", Org!), ("bucket", Bucket!), ("precision", "ns"));

    /// <summary>The database InfluxQL queries run against: the 1.x database, or the 2.x bucket (needs a DBRP mapping).</summary>
    public string QueryDatabase => ApiVersion == InfluxApiVersion.V1 ? Database! : Bucket!;

    /// <summary>Basic auth for 1.x (InfluxDB accepts it in place of u/p query parameters), "Token" for 2.x; null without credentials.</summary>
    public AuthenticationHeaderValue? Authorization => ApiVersion switch
    {
        InfluxApiVersion.V2 => new AuthenticationHeaderValue("Token", Token),
        _ when Username is not null => new AuthenticationHeaderValue(
            "Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"))),
        _ => null,
    };

    public static InfluxEndpoint Parse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw Error("the connection string is missing or empty");
        }

        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = connectionString;
        }
        catch (ArgumentException)
        {
            // The parser's message is generic and safe, but the input holds secrets: never echo it.
            throw Error("it is not a list of key=value pairs separated by ';'");
        }

        foreach (string key in builder.Keys)
        {
            if (!KnownKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                throw Error($"'{key}' is not a known key (expected {string.Join(", ", KnownKeys)})");
            }
        }

        var url = ParseUrl(Read(builder, "Url") ?? throw Error("'Url' is missing"));
        var database = Read(builder, "Database");
        var retentionPolicy = Read(builder, "RetentionPolicy");
        var username = Read(builder, "Username");
        var password = Read(builder, "Password");
        var org = Read(builder, "Org");
        var bucket = Read(builder, "Bucket");
        var token = Read(builder, "Token");

        var looksLikeV2 = org is not null || bucket is not null || token is not null;
        if (looksLikeV2)
        {
            if (database is not null || retentionPolicy is not null || username is not null || password is not null)
            {
                throw Error("'Org', 'Bucket' and 'Token' (InfluxDB 2.x) cannot be combined with 'Database', 'RetentionPolicy', 'Username' or 'Password' (InfluxDB 1.x)");
            }

            return new InfluxEndpoint(
                url,
                InfluxApiVersion.V2,
                database: null,
                retentionPolicy: null,
                username: null,
                password: null,
                org ?? throw Error("'Org' is missing (needed with 'Bucket' and 'Token' for InfluxDB 2.x)"),
                bucket ?? throw Error("'Bucket' is missing (needed with 'Org' and 'Token' for InfluxDB 2.x)"),
                token ?? throw Error("'Token' is missing (needed with 'Org' and 'Bucket' for InfluxDB 2.x)"));
        }

        if (database is null)
        {
            throw Error("'Database' is missing (or give 'Org', 'Bucket' and 'Token' for InfluxDB 2.x)");
        }

        if (username is null && password is not null)
        {
            throw Error("'Password' is given without 'Username'");
        }

        if (username is not null && password is null)
        {
            throw Error("'Username' is given without 'Password'");
        }

        return new InfluxEndpoint(url, InfluxApiVersion.V1, database, retentionPolicy, username, password, null, null, null);
    }

    /// <summary>The connection string with the password or token replaced by ***.</summary>
    public override string ToString()
    {
        var parts = new List<string> { $"Url={Url}" };
        if (ApiVersion == InfluxApiVersion.V1)
        {
            parts.Add($"Database={Database}");
            if (RetentionPolicy is not null)
            {
                parts.Add($"RetentionPolicy={RetentionPolicy}");
            }

            if (Username is not null)
            {
                parts.Add($"Username={Username}");
                parts.Add($"Password={Redacted}");
            }
        }
        else
        {
            parts.Add($"Org={Org}");
            parts.Add($"Bucket={Bucket}");
            parts.Add($"Token={Redacted}");
        }

        return string.Join(";", parts);
    }

    private static Uri ParseUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw Error("'Url' is not an absolute http:// or https:// URL");
        }

        if (url.UserInfo.Length > 0)
        {
            // Credentials in the URL would be sent and logged with every request URI.
            throw Error("'Url' must not contain credentials; use 'Username'/'Password' or 'Token'");
        }

        if (url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            throw Error("'Url' must not have a query string or fragment");
        }

        // A trailing slash makes relative resolution keep a path prefix such as a reverse proxy's /influx/.
        return url.AbsolutePath.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
    }

    private static string? Read(DbConnectionStringBuilder builder, string key)
    {
        if (!builder.TryGetValue(key, out var value))
        {
            return null;
        }

        var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
        return string.IsNullOrWhiteSpace(text)
            ? throw Error($"'{key}' is empty")
            : text;
    }

    private Uri Resolve(string relativePath, params (string Name, string? Value)[] query)
    {
        var pairs = query
            .Where(parameter => parameter.Value is not null)
            .Select(parameter => $"{parameter.Name}={Uri.EscapeDataString(parameter.Value!)}");
        return new Uri(Url, $"{relativePath}?{string.Join("&", pairs)}");
    }

    internal Uri ResolveQueryUri(string database) =>
        Resolve("query", ("db", database), ("epoch", "ns"));

    private static FormatException Error(string problem) => new($"{SettingName}: {problem}.");
}
