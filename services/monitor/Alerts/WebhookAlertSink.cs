using System.Net.Http.Headers;
using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Alerts;

/// <summary>POSTs the alert event, as the same JSON the bus and the store carry, to a URL.</summary>
public sealed class WebhookAlertSink(HttpClient http, Uri url) : IAlertSink
{
    public string Name => $"webhook {url.GetLeftPart(UriPartial.Path)}";

    public async Task DeliverAsync(LvsEvent alert, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(EventJson.Serialize(alert));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(url, content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{Name} answered {(int)response.StatusCode}");
    }
}
