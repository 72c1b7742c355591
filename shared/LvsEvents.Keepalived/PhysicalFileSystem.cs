namespace LvsEvents.Keepalived;

/// <summary>The real disk.</summary>
public sealed class PhysicalFileSystem : IConfigurationFileSystem
{
    public static PhysicalFileSystem Instance { get; } = new();

    public string? TryReadAllText(string path, out string? failure)
    {
        try
        {
            failure = null;
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            failure = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            return null;
        }
    }

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public bool FileExists(string path) => File.Exists(path);

    public IReadOnlyList<string> ListEntries(string directory)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(directory).Select(p => Path.GetFileName(p)).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Array.Empty<string>();
        }
    }
}
