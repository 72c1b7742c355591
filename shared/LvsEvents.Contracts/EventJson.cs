using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LvsEvents.Contracts;

/// <summary>The one JSON shape of events: in the spool, on the wire, in the store.</summary>
public static class EventJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    public static byte[] Serialize(LvsEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, Options);

    public static LvsEvent Deserialize(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize<LvsEvent>(utf8, Options) ?? throw new JsonException("the event is null");

    /// <summary>Applies the event conventions to options owned by someone else (MassTransit's, Marten's).</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        if (!options.Converters.Any(c => c is JsonStringEnumConverter))
        {
            options.Converters.Add(new JsonStringEnumConverter());
        }
    }

    private static void IgnoreDerivedMembers(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !typeof(LvsEvent).IsAssignableFrom(info.Type))
        {
            return;
        }

        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            if (info.Properties[i].Name is "streamKey" or "eventType" && info.Properties[i].Set is null)
            {
                info.Properties.RemoveAt(i);
            }
        }
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            // StreamKey is derived from the event; [JsonIgnore] on the abstract member does not reach the overrides.
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { IgnoreDerivedMembers } },
        };
        Configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
