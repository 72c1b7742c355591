using System.Text.Json;
using LvsEvents.Contracts;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Recovery.Service;

/// <summary>
/// A policy's state on disk (JSON, written to a temporary file, fsync'd and renamed over the old one), so that a
/// restarted service carries on where it was and still knows the event ids it acted on.
/// </summary>
/// <param name="description">what the state is, for the log (e.g. "Recovery state").</param>
/// <param name="withoutIt">what starting without an unreadable file means, for the operator reading the log.</param>
public class DurableStateFile<TState>(string path, string description, string withoutIt, ILogger logger) where TState : class
{
    public string Path { get; } = path;

    public TState? Load()
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<TState>(File.ReadAllBytes(Path), EventJson.Options);
        }
        catch (JsonException e)
        {
            // Starting without it is better than not starting.
            logger.LogError("{What} {Path} unreadable, starting without it ({WithoutIt}): {Error}", description, Path, withoutIt, e.Message);
            return null;
        }
    }

    public void Save(TState state)
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
