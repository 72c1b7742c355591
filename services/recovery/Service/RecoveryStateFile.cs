using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Recovery.Policy;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Recovery.Service;

/// <summary>
/// The self-healing policy's state on disk (JSON, written to a temporary file, fsync'd and renamed over the old one), so
/// that a restarted service resumes ramps and holds and still knows the event ids it acted on.
/// </summary>
public sealed class RecoveryStateFile(string path, ILogger<RecoveryStateFile> logger)
{
    public string Path { get; } = path;

    public SelfHealingState? Load()
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<SelfHealingState>(File.ReadAllBytes(Path), EventJson.Options);
        }
        catch (JsonException e)
        {
            // Starting from what the bus says next is better than not starting.
            logger.LogError("Recovery state {Path} unreadable, starting without it: {Error}", Path, e.Message);
            return null;
        }
    }

    public void Save(SelfHealingState state)
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
