using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Influx.Tests.Support;

/// <summary>
/// Keeps every log entry with its event id and structured values (the shared CapturedLogs keeps only lines),
/// so tests can count specific events and check what was, and was not, logged.
/// </summary>
public sealed class StructuredLogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<StructuredLogEntry> _entries = new();

    public IReadOnlyList<StructuredLogEntry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, _entries);

    public IReadOnlyList<StructuredLogEntry> From<TCategory>() =>
        Entries.Where(entry => entry.Category == typeof(TCategory).FullName).ToList();

    /// <summary>Fails naming the entry if any message, structured value or exception contains one of <paramref name="secrets"/>.</summary>
    public void AssertNoneContain(params string[] secrets)
    {
        Assert.NotEmpty(_entries);
        foreach (var entry in _entries)
        {
            foreach (var secret in secrets)
            {
                Assert.False(
                    entry.FullText.Contains(secret, StringComparison.Ordinal),
                    $"A log entry of {entry.Category} reveals a secret: {entry.FullText}");
            }
        }
    }

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<StructuredLogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(pair => pair.Key, pair => Convert.ToString(pair.Value, System.Globalization.CultureInfo.InvariantCulture))
                : new Dictionary<string, string?>();
            entries.Enqueue(new StructuredLogEntry(category, logLevel, eventId, formatter(state, exception), values, exception?.ToString()));
        }
    }
}
