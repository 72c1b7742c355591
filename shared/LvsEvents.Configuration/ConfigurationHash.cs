using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Output;

namespace LvsEvents.Configuration;

/// <summary>
/// SHA-256 (lower-case hex) of the configuration's normalized, redacted JSON: source locations removed, so moving
/// a block or reformatting the file keeps the hash. Secrets are <c>***</c> in that JSON on purpose: a hash of an
/// 8-character auth_pass in every event would let anyone with the event store brute-force it. A changed auth_pass is
/// therefore seen by the diff, not by the hash.
/// </summary>
public static class ConfigurationHash
{
    public static string Compute(KeepalivedConfiguration configuration)
    {
        var node = ConfigurationJson.ToNode(configuration);
        RemoveLocations(node);
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(node.ToJsonString()));
        return Convert.ToHexStringLower(bytes);
    }

    private static void RemoveLocations(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                obj.Remove("location");
                foreach (var (_, value) in obj)
                {
                    RemoveLocations(value);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    RemoveLocations(item);
                }

                break;
        }
    }
}
