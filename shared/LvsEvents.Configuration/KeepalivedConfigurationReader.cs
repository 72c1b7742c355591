using LvsEvents.Eventing;
using LvsEvents.Keepalived;

namespace LvsEvents.Configuration;

/// <summary>Reads and validates the configured keepalived.conf (with its includes) from disk.</summary>
public sealed class KeepalivedConfigurationReader(KeepalivedConfigurationOptions options)
{
    public string File { get; } = Path.GetFullPath(options.File);

    /// <summary>The first read: an invalid file stops the service with one message listing every located error.</summary>
    public LoadedConfiguration ReadAtStart(CancellationToken cancellationToken)
    {
        var result = Read(cancellationToken);
        if (result.Configuration is { } loaded)
        {
            return loaded;
        }

        var count = result.Errors.Count == 1 ? "1 error" : $"{result.Errors.Count} errors";
        throw new ConfigurationException(
            $"keepalived configuration {result.File} has {count}; not starting:{Environment.NewLine}" + string.Join(Environment.NewLine, result.ErrorLines));
    }

    public ConfigurationReadResult Read(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var parserOptions = string.IsNullOrWhiteSpace(options.ConfigId)
            ? new ParserOptions()
            : new ParserOptions { ConfigId = options.ConfigId };
        var result = ConfigurationParser.ParseFile(File, parserOptions);
        if (result.HasErrors)
        {
            return new ConfigurationReadResult(File, null, result.Errors.ToList());
        }

        var loaded = new LoadedConfiguration(File, result.Configuration, ConfigurationHash.Compute(result.Configuration), result.Warnings.ToList());
        return new ConfigurationReadResult(File, loaded, []);
    }
}
