using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.EventStore;

namespace LvsEvents.Lvsctl.Commands;

/// <summary><c>lvsctl events</c>: the recorded events of a recent window, oldest first, one per line.</summary>
public sealed class EventsCommand : ICommandGroup
{
    private static readonly HashSet<string> Metadata = ["eventType", "eventId", "occurredAt", "nodeId", "service", "correlationId", "causationId", "schemaVersion"];

    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string Name => "events";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl events [--since 15m|2h|ISO-TIME] [--stream KEY] [--limit N]   recorded events (needs ConnectionStrings__eventstore)",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        var since = TimeSpan.FromMinutes(15);
        DateTimeOffset? from = null;
        string? stream = null;
        var limit = 200;
        for (var i = 0; i < arguments.Count; i += 2)
        {
            var value = i + 1 < arguments.Count ? arguments[i + 1] : null;
            var understood = (arguments[i], value) switch
            {
                ("--since", not null) => TryParseSince(value, out since, out from),
                ("--stream", not null) => (stream = value) is not null,
                ("--limit", not null) => int.TryParse(value, out limit) && limit > 0,
                _ => false,
            };
            if (!understood)
            {
                error.WriteLine(value is null || !arguments[i].StartsWith("--", StringComparison.Ordinal)
                    ? $"lvsctl events: unexpected or incomplete argument '{arguments[i]}'"
                    : $"lvsctl events: '{arguments[i]} {value}' is not understood");
                error.WriteLine($"usage: {Usage[0]}");
                return 2;
            }
        }

        try
        {
            using var store = EventStoreSchema.CreateStore(Environment.GetEnvironmentVariable("ConnectionStrings__eventstore"));
            var start = from ?? DateTimeOffset.UtcNow - since;
            var events = new RecordedEvents(store).ReadAsync(start, DateTimeOffset.UtcNow.AddMinutes(1), stream, limit).GetAwaiter().GetResult();
            foreach (var recorded in events)
            {
                output.WriteLine(Format(recorded.Event));
            }

            error.WriteLine($"{events.Count} events since {start:yyyy-MM-ddTHH:mm:ssZ}{(events.Count == limit ? $" (first {limit}; use --limit)" : "")}");
            return 0;
        }
        catch (ConfigurationException e)
        {
            error.WriteLine($"lvsctl events: {e.Message}");
            return 1;
        }
        catch (Npgsql.NpgsqlException e)
        {
            error.WriteLine($"lvsctl events: the event store is not reachable: {e.Message}");
            return 1;
        }
    }

    /// <summary><c>2026-11-25T10:00:03.120Z  node/service  type  stream  {fields}</c></summary>
    public static string Format(LvsEvent e)
    {
        var body = JsonSerializer.SerializeToNode(e, EventJson.Options)!.AsObject();
        foreach (var key in Metadata)
        {
            body.Remove(key);
        }

        return $"{e.OccurredAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}  {e.NodeId}/{e.Service}  {e.EventType}  {e.StreamKey}  {body.ToJsonString(Readable)}";
    }

    private static bool TryParseSince(string text, out TimeSpan since, out DateTimeOffset? from)
    {
        since = default;
        from = null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && text.Contains('-'))
        {
            from = at;
            return true;
        }

        if (text.Length < 2 || !double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            return false;
        }

        since = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => TimeSpan.Zero,
        };
        return since > TimeSpan.Zero;
    }
}
