using System.Net.Http.Headers;
using System.Text.Json;

namespace LvsEvents.Influx;

/// <summary>
/// Runs InfluxQL through <c>POST /query</c> (1.x, and 2.x with a DBRP mapping) and parses the JSON result.
/// For tests and tools; the product writes through <see cref="InfluxMetricsWriter"/>.
/// </summary>
/// <remarks>
/// POST is used for every statement because 1.x requires it for CREATE/DROP and it keeps the query text
/// out of request-URI logs.
/// </remarks>
public sealed class InfluxQueryClient
{
    private readonly HttpClient _httpClient;
    private readonly InfluxEndpoint _endpoint;

    public InfluxQueryClient(HttpClient httpClient, InfluxEndpoint endpoint)
    {
        _httpClient = httpClient ?? throw new ArgumentNullException(nameof(httpClient));
        _endpoint = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
    }

    /// <summary>
    /// Runs <paramref name="influxQl"/> against the endpoint's database (or <paramref name="database"/>) and
    /// returns the series of every statement, in order. A statement error throws <see cref="InfluxQueryException"/>.
    /// </summary>
    public async Task<IReadOnlyList<InfluxSeries>> QueryAsync(
        string influxQl,
        CancellationToken cancellationToken,
        string? database = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(influxQl);

        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint.ResolveQueryUri(database ?? _endpoint.QueryDatabase))
        {
            Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("q", influxQl)]),
        };
        request.Headers.Authorization = _endpoint.Authorization;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var response = await _httpClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InfluxQueryException($"InfluxDB answered {(int)response.StatusCode} to the query: {body}");
        }

        return Parse(body);
    }

    internal static IReadOnlyList<InfluxSeries> Parse(string body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            throw new InfluxQueryException("InfluxDB's query answer is not JSON.", exception);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var topError))
            {
                throw new InfluxQueryException($"InfluxDB refused the query: {topError.GetString()}");
            }

            var series = new List<InfluxSeries>();
            if (!root.TryGetProperty("results", out var results))
            {
                return series;
            }

            foreach (var result in results.EnumerateArray())
            {
                if (result.TryGetProperty("error", out var statementError))
                {
                    throw new InfluxQueryException($"InfluxDB refused the query: {statementError.GetString()}");
                }

                if (!result.TryGetProperty("series", out var resultSeries))
                {
                    continue;
                }

                foreach (var item in resultSeries.EnumerateArray())
                {
                    series.Add(ParseSeries(item));
                }
            }

            return series;
        }
    }

    private static InfluxSeries ParseSeries(JsonElement item)
    {
        var name = item.TryGetProperty("name", out var nameElement) ? nameElement.GetString() ?? string.Empty : string.Empty;

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (item.TryGetProperty("tags", out var tagsElement))
        {
            foreach (var tag in tagsElement.EnumerateObject())
            {
                tags[tag.Name] = tag.Value.GetString() ?? string.Empty;
            }
        }

        var columns = item.TryGetProperty("columns", out var columnsElement)
            ? columnsElement.EnumerateArray().Select(column => column.GetString() ?? string.Empty).ToArray()
            : [];

        // Clone: the rows must outlive the JsonDocument.
        var values = item.TryGetProperty("values", out var valuesElement)
            ? valuesElement.EnumerateArray()
                .Select(row => (IReadOnlyList<JsonElement>)row.EnumerateArray().Select(value => value.Clone()).ToArray())
                .ToArray()
            : [];

        return new InfluxSeries(name, tags, columns, values);
    }
}
