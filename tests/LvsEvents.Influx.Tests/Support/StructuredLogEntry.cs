using Microsoft.Extensions.Logging;

namespace LvsEvents.Influx.Tests.Support;

public sealed record StructuredLogEntry(
    string Category,
    LogLevel Level,
    EventId EventId,
    string Message,
    IReadOnlyDictionary<string, string?> Values,
    string? Exception)
{
    /// <summary>Message, every structured value and the exception, for searching.</summary>
    public string FullText =>
        string.Join("\n", new[] { Message, Exception ?? string.Empty }.Concat(Values.Select(pair => $"{pair.Key}={pair.Value}")));
}
