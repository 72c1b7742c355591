using LvsEvents.Contracts;
using LvsEvents.EventStore;
using LvsEvents.Replay;
using LvsEvents.TestInfrastructure;
using Npgsql;

namespace LvsEvents.Vrrp.Tests.Directors;

/// <summary>
/// The real event store for one test: a schema of its own in the real PostgreSQL, created through Marten as the monitor
/// does, fed with what the bus carries for the test's nodes (and lvsctl's drill commands) by the monitor's own
/// <see cref="EventRecorder"/>; dropped on dispose. A second monitor would compete for the shared monitor queue.
/// </summary>
public sealed class RecordedStore : IAsyncDisposable
{
    private readonly BusTap _bus;
    private readonly Func<LvsEvent, bool> _ours;
    private readonly HashSet<Guid> _recorded = [];
    private readonly CancellationTokenSource _stop = new();
    // The pump and a test's flush must not record the same event twice (the store keeps one event per id).
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly EventRecorder _recorder;
    private Task? _pump;

    private RecordedStore(string connectionString, string schema, NpgsqlDataSource dataSource, BusTap bus, Func<LvsEvent, bool> ours)
    {
        ConnectionString = connectionString;
        Schema = schema;
        DataSource = dataSource;
        _bus = bus;
        _ours = ours;
        _recorder = new EventRecorder(dataSource, schema);
        Events = new StoredEvents(dataSource, schema);
    }

    public string ConnectionString { get; }
    public string Schema { get; }
    public NpgsqlDataSource DataSource { get; }
    public StoredEvents Events { get; }

    public static async Task<RecordedStore> StartAsync(BusTap bus, Func<LvsEvent, bool> ours)
    {
        var connectionString = await TestServers.EventStoreAsync();
        var schema = "drill_test_" + Guid.NewGuid().ToString("N")[..10];
        using (var store = Marten.DocumentStore.For(o => EventStoreSchema.Configure(o, connectionString, schema)))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await EventStoreSchema.EnsureAsync(store, timeout.Token);
        }

        var recorded = new RecordedStore(connectionString, schema, NpgsqlDataSource.Create(connectionString), bus, ours);
        recorded._pump = Task.Run(() => recorded.PumpAsync(recorded._stop.Token));
        return recorded;
    }

    /// <summary>Records what arrived and is not yet recorded; the pump does this every 100 ms.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            await FlushOnceAsync(cancellationToken);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task FlushOnceAsync(CancellationToken cancellationToken)
    {
        List<LvsEvent> fresh;
        lock (_recorded)
        {
            fresh = _bus.Events.Where(e => _ours(e) && !_recorded.Contains(e.EventId)).ToList();
        }

        if (fresh.Count == 0)
        {
            return;
        }

        await _recorder.RecordAsync(fresh.Select(e => new JsonEvent(e, System.Text.Encoding.UTF8.GetString(EventJson.Serialize(e)))).ToList(), cancellationToken);
        lock (_recorded)
        {
            _recorded.UnionWith(fresh.Select(e => e.EventId));
        }
    }

    /// <summary>Every recorded event of the test, in time order.</summary>
    public async Task<IReadOnlyList<LvsEvent>> AllAsync()
    {
        await FlushAsync(CancellationToken.None);
        var all = new List<LvsEvent>();
        await foreach (var e in Events.ReadAsync(new EventFilter(), CancellationToken.None))
        {
            all.Add(e.Event);
        }

        return all;
    }

    /// <summary>The recorded events once <paramref name="done"/> holds for them (or as they are after <paramref name="timeout"/>).</summary>
    public async Task<IReadOnlyList<LvsEvent>> WaitForAsync(Func<IReadOnlyList<LvsEvent>, bool> done, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var all = await AllAsync();
            if (done(all) || clock.Elapsed > timeout)
            {
                return all;
            }

            await Task.Delay(200);
        }
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await FlushAsync(cancellationToken);
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_pump is not null)
        {
            await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await using (var command = DataSource.CreateCommand($"drop schema if exists {Schema} cascade"))
        {
            await command.ExecuteNonQueryAsync();
        }

        await DataSource.DisposeAsync();
        _stop.Dispose();
        _flushing.Dispose();
    }
}
