namespace LvsEvents.Keepalived;

/// <summary>How to read a configuration: which config id selects <c>@id</c> lines, and where files come from.</summary>
public sealed record ParserOptions
{
    /// <summary>keepalived's <c>-i</c>; keepalived defaults it to the first label of the host name.</summary>
    public string ConfigId { get; init; } = DefaultConfigId();

    public IConfigurationFileSystem FileSystem { get; init; } = PhysicalFileSystem.Instance;

    /// <summary>Bounds that keep hostile input (include loops, self-referencing macros, huge ~SEQ) from hanging the parser.</summary>
    public int MaxIncludeDepth { get; init; } = 32;

    public int MaxExpansionDepth { get; init; } = 32;

    public int MaxLogicalLines { get; init; } = 2_000_000;

    /// <summary>Seed for <c>${_RANDOM}</c>, so that a parse is reproducible.</summary>
    public int RandomSeed { get; init; }

    public static string DefaultConfigId()
    {
        var name = Environment.MachineName;
        var dot = name.IndexOf('.');
        return dot > 0 ? name[..dot] : name;
    }
}
