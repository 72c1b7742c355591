namespace LvsEvents.Keepalived;

/// <summary>Files held in a dictionary keyed by absolute path; for tests and for callers that already hold the text.</summary>
public sealed class InMemoryFileSystem : IConfigurationFileSystem
{
    private readonly Dictionary<string, string> _files;

    public InMemoryFileSystem(IReadOnlyDictionary<string, string> files) =>
        _files = files.ToDictionary(kv => Normalize(kv.Key), kv => kv.Value, StringComparer.Ordinal);

    public string? TryReadAllText(string path, out string? failure)
    {
        if (_files.TryGetValue(Normalize(path), out var text))
        {
            failure = null;
            return text;
        }

        failure = "no such file";
        return null;
    }

    public bool FileExists(string path) => _files.ContainsKey(Normalize(path));

    public bool DirectoryExists(string path)
    {
        var prefix = Normalize(path).TrimEnd('/') + "/";
        return prefix == "/" || _files.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
    }

    public IReadOnlyList<string> ListEntries(string directory)
    {
        var prefix = Normalize(directory).TrimEnd('/') + "/";
        return _files.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..].Split('/')[0])
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static string Normalize(string path) => Path.GetFullPath(path);
}
