using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.Keepalived.Output;

/// <summary>
/// JSON form of the model with snake_case names (close to keepalived's keywords) and every
/// <see cref="SecretValueAttribute"/> property written as <c>***</c>. The redaction lives in the serializer
/// contract so no output path can forget it.
/// </summary>
public static class ConfigurationJson
{
    private static readonly JsonSerializerOptions Display = Create(includeLocations: true);

    private static readonly JsonSerializerOptions Comparison = Create(includeLocations: false);

    public static string Serialize(KeepalivedConfiguration configuration) =>
        JsonSerializer.Serialize(configuration, Display);

    public static JsonNode ToNode(KeepalivedConfiguration configuration) =>
        JsonSerializer.SerializeToNode(configuration, Display)!;

    /// <summary>
    /// The object as compared by the diff: no source locations (moving a block is not a change) and no nested real
    /// servers under a virtual server (they are objects of their own).
    /// </summary>
    internal static JsonNode? ToComparableNode<T>(T value) => JsonSerializer.SerializeToNode(value, Comparison);

    private static JsonSerializerOptions Create(bool includeLocations)
    {
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(info => Redact(info));
        if (!includeLocations)
        {
            resolver.Modifiers.Add(RemoveIdentityNoise);
        }

        var options = new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            TypeInfoResolver = resolver,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly();
        return options;
    }

    private static void Redact(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in info.Properties)
        {
            var isSecret = property.AttributeProvider?.GetCustomAttributes(typeof(SecretValueAttribute), inherit: true).Length > 0;
            if (isSecret && property.Get is { } getter)
            {
                property.Get = owner => getter(owner) is null ? null : SecretValueAttribute.Redacted;
            }
        }
    }

    private static void RemoveIdentityNoise(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var property = info.Properties[i];
            var name = property.Name;
            if (name == "location"
                || (info.Type == typeof(VirtualServer) && name is "real_servers" or "key")
                || (info.Type == typeof(RealServer) && name == "endpoint"))
            {
                info.Properties.RemoveAt(i);
            }
        }
    }
}
