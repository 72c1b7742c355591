using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LvsEvents.Contracts;
using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Output;

namespace LvsEvents.Keepalived.Diff;

/// <summary>
/// Compares two configurations object by object (global_defs, vrrp_script, vrrp_sync_group, vrrp_instance,
/// virtual_server_group, virtual_server, real_server), so that a reload can keep the state of everything that did
/// not change. Pure; secrets are compared but only ever reported as <c>***</c>.
/// </summary>
public static class ConfigurationDiff
{
    public static IReadOnlyList<ConfigurationChange> Compare(KeepalivedConfiguration before, KeepalivedConfiguration after)
    {
        var changes = new List<ConfigurationChange>();
        CompareOne(changes, "global_defs", "global_defs", before.GlobalDefinitions, after.GlobalDefinitions);
        CompareSets(changes, "vrrp_script", before.VrrpScripts, after.VrrpScripts, s => s.Name);
        CompareSets(changes, "vrrp_sync_group", before.VrrpSyncGroups, after.VrrpSyncGroups, g => g.Name);
        CompareSets(changes, "vrrp_instance", before.VrrpInstances, after.VrrpInstances, i => i.Name);
        CompareSets(changes, "virtual_server_group", before.VirtualServerGroups, after.VirtualServerGroups, g => g.Name);
        CompareSets(changes, "virtual_server", before.VirtualServers, after.VirtualServers, v => v.Key);
        CompareSets(changes, "real_server", RealServers(before), RealServers(after), r => r.Key);
        return changes;
    }

    private static IEnumerable<KeyedRealServer> RealServers(KeepalivedConfiguration configuration) =>
        configuration.VirtualServers.SelectMany(v => v.RealServers.Select(r => new KeyedRealServer($"{v.Key} -> {r.Endpoint}", r)));

    private static void CompareSets<T>(List<ConfigurationChange> changes, string type, IEnumerable<T> before, IEnumerable<T> after, Func<T, string> key)
        where T : notnull
    {
        // A duplicated key (an error the validator reports) compares its last definition, the one keepalived keeps.
        var old = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in before)
        {
            old[key(item)] = item;
        }

        var current = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in after)
        {
            current[key(item)] = item;
        }

        foreach (var (name, item) in old)
        {
            if (!current.ContainsKey(name))
            {
                changes.Add(new ConfigurationChange(type, name, ChangeKind.Removed, Fields(item).Select(f => new FieldChange(f.Key, f.Value, null)).ToList()));
            }
        }

        foreach (var (name, item) in current)
        {
            if (old.TryGetValue(name, out var previous))
            {
                CompareOne(changes, type, name, previous, item);
            }
            else
            {
                changes.Add(new ConfigurationChange(type, name, ChangeKind.Added, Fields(item).Select(f => new FieldChange(f.Key, null, f.Value)).ToList()));
            }
        }
    }

    private static void CompareOne<T>(List<ConfigurationChange> changes, string type, string key, T before, T after)
        where T : notnull
    {
        var old = Fields(before);
        var current = Fields(after);
        var fields = new List<FieldChange>();
        foreach (var name in old.Keys.Union(current.Keys).Order(StringComparer.Ordinal))
        {
            old.TryGetValue(name, out var oldValue);
            current.TryGetValue(name, out var newValue);
            if (oldValue != newValue)
            {
                fields.Add(new FieldChange(name, oldValue, newValue));
            }
        }

        // A changed secret has equal redacted values; compare the real ones so the change is still reported.
        if (!SecretsEqual(before, after))
        {
            fields.Add(new FieldChange("authentication.password", SecretValueAttribute.Redacted, SecretValueAttribute.Redacted));
        }

        if (fields.Count > 0)
        {
            changes.Add(new ConfigurationChange(type, key, ChangeKind.Changed, fields));
        }
    }

    private static bool SecretsEqual<T>(T before, T after) =>
        before is not VrrpInstance a || after is not VrrpInstance b
        || a.Authentication?.Password == b.Authentication?.Password;

    /// <summary>Flattens an object to <c>path = value</c> pairs (<c>authentication.type</c>, <c>checkers[0].connect_port</c>).</summary>
    internal static Dictionary<string, string?> Fields<T>(T item)
    {
        var node = item is KeyedRealServer keyed ? ConfigurationJson.ToComparableNode(keyed.Server) : ConfigurationJson.ToComparableNode(item);
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
        Flatten(node, string.Empty, fields);
        return fields;
    }

    private static void Flatten(JsonNode? node, string path, Dictionary<string, string?> fields)
    {
        switch (node)
        {
            case null:
                return;
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    Flatten(value, path.Length == 0 ? key : $"{path}.{key}", fields);
                }

                break;
            case JsonArray array:
                if (array.Count == 0)
                {
                    return;
                }

                for (var i = 0; i < array.Count; i++)
                {
                    Flatten(array[i], $"{path}[{i.ToString(CultureInfo.InvariantCulture)}]", fields);
                }

                break;
            default:
                fields[path] = node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();
                break;
        }
    }

    private sealed record KeyedRealServer(string Key, RealServer Server);
}
