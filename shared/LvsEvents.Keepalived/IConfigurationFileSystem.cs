namespace LvsEvents.Keepalived;

/// <summary>
/// The only way the parser touches files: reading the main file and included ones and listing directories for
/// include globs. Tests swap in an in-memory implementation so parsing stays a pure function of its inputs.
/// </summary>
public interface IConfigurationFileSystem
{
    /// <summary>Returns the text, or null with a reason when the file is missing or unreadable.</summary>
    string? TryReadAllText(string path, out string? failure);

    bool DirectoryExists(string path);

    bool FileExists(string path);

    /// <summary>Names (not paths) of the entries of a directory; empty when it cannot be listed.</summary>
    IReadOnlyList<string> ListEntries(string directory);
}
