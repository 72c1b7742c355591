using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LvsEvents.Contracts;
using LvsEvents.Keepalived.Diff;
using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Output;

namespace LvsEvents.Configuration;

/// <summary>
/// The change list of a service's first configuration: every object as <see cref="ChangeKind.Added"/>, so the event
/// store holds the complete starting point that later reloads are diffs against.
/// </summary>
public static class InitialConfigurationChanges
{
    public static IReadOnlyList<ConfigurationChange> Of(KeepalivedConfiguration configuration)
    {
        // Against an empty configuration the diff reports every named object as Added; global_defs always exists on
        // both sides, so it would come out as Changed with only its non-default fields. It is rebuilt as Added whole.
        var changes = ConfigurationDiff.Compare(new KeepalivedConfiguration(), configuration)
            .Where(c => c.ObjectType != "global_defs")
            .ToList();
        changes.Insert(0, new ConfigurationChange("global_defs", "global_defs", ChangeKind.Added, GlobalDefinitionFields(configuration)));
        return changes;
    }

    private static List<FieldChange> GlobalDefinitionFields(KeepalivedConfiguration configuration)
    {
        // Same flattening (and the same redacting serializer) as ConfigurationDiff uses for fields.
        var fields = new List<FieldChange>();
        Flatten(ConfigurationJson.ToNode(configuration)["global_definitions"], string.Empty, fields);
        return fields;
    }

    private static void Flatten(JsonNode? node, string path, List<FieldChange> fields)
    {
        switch (node)
        {
            case null:
                return;
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (key != "location")
                    {
                        Flatten(value, path.Length == 0 ? key : $"{path}.{key}", fields);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Flatten(array[i], $"{path}[{i.ToString(CultureInfo.InvariantCulture)}]", fields);
                }

                break;
            default:
                fields.Add(new FieldChange(path, null, node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString()));
                break;
        }
    }
}
