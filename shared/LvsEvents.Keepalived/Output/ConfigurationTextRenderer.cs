using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.Keepalived.Output;

/// <summary>
/// Human-readable form of the model in keepalived-like block syntax: one block per object with every effective
/// value (defaults included), secrets as <c>***</c>, unset values and empty lists left out.
/// </summary>
public static class ConfigurationTextRenderer
{
    public static string Render(KeepalivedConfiguration configuration)
    {
        var root = ConfigurationJson.ToNode(configuration).AsObject();
        var text = new StringBuilder();
        WriteBlock(text, "global_defs", root["global_definitions"], 0);
        WriteEach(text, "vrrp_script", root["vrrp_scripts"], "name");
        WriteEach(text, "vrrp_sync_group", root["vrrp_sync_groups"], "name");
        WriteEach(text, "vrrp_instance", root["vrrp_instances"], "name");
        WriteEach(text, "virtual_server_group", root["virtual_server_groups"], "name");
        WriteEach(text, "virtual_server", root["virtual_servers"], "key");
        foreach (var other in root["other_settings"]?.AsArray() ?? [])
        {
            WritePassThrough(text, other!, 0);
        }

        return text.ToString();
    }

    private static void WriteEach(StringBuilder text, string keyword, JsonNode? list, string nameProperty)
    {
        foreach (var item in list?.AsArray() ?? [])
        {
            var name = item![nameProperty]?.ToString();
            WriteBlock(text, $"{keyword} {name}", item, 0, skip: nameProperty);
        }
    }

    private static void WriteBlock(StringBuilder text, string header, JsonNode? node, int depth, string? skip = null)
    {
        if (node is not JsonObject obj)
        {
            return;
        }

        var indent = new string(' ', depth * 4);
        var location = obj["location"] is JsonObject l ? $"  # {l["file"]}:{l["line"]}" : string.Empty;
        text.Append(indent).Append(header).Append(" {").Append(location).Append('\n');
        foreach (var (key, value) in obj)
        {
            if (key == "location" || key == skip || value is null)
            {
                continue;
            }

            WriteValue(text, key, value, depth + 1);
        }

        text.Append(indent).Append("}\n");
        if (depth == 0)
        {
            text.Append('\n');
        }
    }

    private static void WriteValue(StringBuilder text, string key, JsonNode value, int depth)
    {
        var indent = new string(' ', depth * 4);
        switch (value)
        {
            case JsonObject obj:
                WriteBlock(text, obj["checker"] is { } checker ? checker.ToString() : key, obj, depth, skip: "checker");
                break;
            case JsonArray array when array.Count == 0:
                break;
            case JsonArray array when key == "other_settings":
                foreach (var item in array)
                {
                    WritePassThrough(text, item!, depth);
                }

                break;
            case JsonArray array when array.All(i => i is JsonValue):
                text.Append(indent).Append(key).Append(" {\n");
                foreach (var item in array)
                {
                    text.Append(indent).Append("    ").Append(Scalar(item!)).Append('\n');
                }

                text.Append(indent).Append("}\n");
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is JsonObject element)
                    {
                        var header = element["checker"]?.ToString() ?? key;
                        var name = element["name"] ?? element["address"] ?? element["path"];
                        WriteBlock(text, name is null ? header : $"{header} {Scalar(name)}", element, depth, skip: "checker");
                    }
                }

                break;
            default:
                text.Append(indent).Append(key).Append(' ').Append(Scalar(value)).Append('\n');
                break;
        }
    }

    private static void WritePassThrough(StringBuilder text, JsonNode setting, int depth)
    {
        var indent = new string(' ', depth * 4);
        var words = new[] { setting["keyword"]!.ToString() }
            .Concat(setting["arguments"]!.AsArray().Select(a => Quote(a!.ToString())));
        text.Append(indent).Append(string.Join(' ', words));
        if (setting["block"] is JsonArray block)
        {
            text.Append(" {\n");
            foreach (var child in block)
            {
                WritePassThrough(text, child!, depth + 1);
            }

            text.Append(indent).Append('}');
        }

        text.Append('\n');
    }

    private static string Scalar(JsonNode value) =>
        value.GetValueKind() switch
        {
            JsonValueKind.String => Quote(value.GetValue<string>()),
            JsonValueKind.Number => value.GetValue<double>().ToString(CultureInfo.InvariantCulture),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => value.ToJsonString(),
        };

    private static string Quote(string text) =>
        text.Length == 0 || text.Any(c => char.IsWhiteSpace(c) || c is '{' or '}' or '#' or '!' or '"')
            ? "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""
            : text;
}
