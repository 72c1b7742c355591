using Microsoft.Extensions.Logging;

namespace LvsEvents.Configuration;

/// <summary>Logs the warnings of a usable configuration as one line, so a reload does not flood the log.</summary>
internal static class ConfigurationWarnings
{
    public static void Log(ILogger logger, LoadedConfiguration loaded)
    {
        if (loaded.Warnings.Count > 0)
        {
            logger.LogWarning(
                "{File} has {WarningCount} warnings: {Warnings}",
                loaded.File,
                loaded.Warnings.Count,
                string.Join(" | ", loaded.Warnings.Select(w => w.ToString())));
        }
    }
}
