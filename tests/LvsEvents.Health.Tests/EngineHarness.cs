using System.Collections.Concurrent;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Eventing.Spool;
using LvsEvents.Health.Reporting;
using LvsEvents.Keepalived;
using LvsEvents.TestInfrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.Health.Tests;

/// <summary>
/// A <see cref="HealthEngine"/> on a keepalived.conf text, emitting through the real emitter into a real spool in a
/// temporary directory; the events are read back from the spool as the publisher would read them.
/// </summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private readonly string _directory;
    private readonly DurableEventSpool _spool;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly Task _reading;
    private readonly ConcurrentQueue<LvsEvent> _events = new();

    private EngineHarness(string configuration, HealthOptions? options, HealthEngine? previous, Func<Keepalived.Model.GlobalDefinitions, Keepalived.Model.VirtualServer, Keepalived.Model.RealServer, Keepalived.Model.HealthChecker, Checking.IProbe?>? probes)
    {
        var parsed = ConfigurationParser.ParseText(configuration);
        Assert.Empty(parsed.Errors);
        _directory = Directory.CreateTempSubdirectory("lvs-health-test-").FullName;
        _spool = DurableEventSpool.Open(_directory, NullLogger.Instance);
        var emitter = new EventEmitter(_spool, new ServiceIdentity("test-director", "health"), TimeProvider.System);
        Logs = new CapturedLogs();
        var outbox = new EventOutbox(emitter, new Logger<EventOutbox>(new LoggerFactory([Logs])));
        Engine = new HealthEngine(parsed.Configuration, outbox, TimeProvider.System, options ?? new HealthOptions(), Logs.CreateLogger("engine"), probes, previous);
        _running = Task.WhenAll(outbox.RunAsync(_stop.Token), Engine.RunAsync(_stop.Token));
        _reading = Task.Run(ReadAsync);
    }

    public HealthEngine Engine { get; }

    public CapturedLogs Logs { get; }

    public IReadOnlyCollection<LvsEvent> Events => _events;

    public static EngineHarness Start(
        string configuration,
        HealthOptions? options = null,
        HealthEngine? previous = null,
        Func<Keepalived.Model.GlobalDefinitions, Keepalived.Model.VirtualServer, Keepalived.Model.RealServer, Keepalived.Model.HealthChecker, Checking.IProbe?>? probes = null) =>
        new(configuration, options, previous, probes);

    /// <summary>The first event of type <typeparamref name="T"/> matching <paramref name="match"/>, waiting at most <paramref name="timeout"/>.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan timeout, string what)
        where T : LvsEvent
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_events.OfType<T>().FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no {what} within {timeout.TotalSeconds} s; saw {_events.Count} events: " +
                    string.Join("; ", _events.TakeLast(8).Select(e => e.ToString())));
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(10));
            await _reading.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await _spool.DisposeAsync();
            Directory.Delete(_directory, recursive: true);
            _stop.Dispose();
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            while (true)
            {
                foreach (var record in await _spool.ReadAsync(1000, _stop.Token))
                {
                    _events.Enqueue(EventJson.Deserialize(record.Payload.Span));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
