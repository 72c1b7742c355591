using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Recovery.Policy;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Recovery.Service;

/// <summary>
/// The canaries on disk (JSON, written to a temporary file, fsync'd and renamed), so that a restarted service carries on
/// with a running canary at the step it was at, and still knows the event ids it acted on.
/// </summary>
public sealed class CanaryStateFile(string path, ILogger<CanaryStateFile> logger)
{
    public string Path { get; } = path;

    public CanaryPolicyState? Load()
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<CanaryPolicyState>(File.ReadAllBytes(Path), EventJson.Options);
        }
        catch (JsonException e)
        {
            // A canary that cannot be read is not resumed: its weights stay as last set until an operator acts.
            logger.LogError("Canary state {Path} unreadable, starting without it: {Error}", Path, e.Message);
            return null;
        }
    }

    public void Save(CanaryPolicyState state)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        var temporary = Path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, state, EventJson.Options);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
    }
}
