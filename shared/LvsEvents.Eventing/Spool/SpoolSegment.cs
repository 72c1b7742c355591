using System.Globalization;

namespace LvsEvents.Eventing.Spool;

/// <summary>One file of the spool, named by the sequence of its first record.</summary>
internal sealed record SpoolSegment(long FirstSequence, string Path)
{
    private const string Extension = ".seg";

    public static SpoolSegment For(string directory, long firstSequence) =>
        new(firstSequence, System.IO.Path.Combine(directory, firstSequence.ToString("D20", CultureInfo.InvariantCulture) + Extension));

    public static IReadOnlyList<SpoolSegment> List(string directory) =>
        Directory.EnumerateFiles(directory, "*" + Extension)
            .Select(path => long.TryParse(System.IO.Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                ? new SpoolSegment(first, path)
                : null)
            .OfType<SpoolSegment>()
            .OrderBy(s => s.FirstSequence)
            .ToList();
}
