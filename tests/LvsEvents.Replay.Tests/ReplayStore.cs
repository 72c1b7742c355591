using LvsEvents.Contracts;
using LvsEvents.EventStore;
using LvsEvents.TestInfrastructure;
using Marten;
using Npgsql;

namespace LvsEvents.Replay.Tests;

/// <summary>A schema of its own in the real PostgreSQL, created through Marten as the monitor does, dropped on dispose.</summary>
public sealed class ReplayStore : IAsyncDisposable
{
    private ReplayStore(string connectionString, string schema, NpgsqlDataSource dataSource)
    {
        ConnectionString = connectionString;
        Schema = schema;
        DataSource = dataSource;
        Recorder = new EventRecorder(dataSource, schema);
    }

    public string ConnectionString { get; }
    public string Schema { get; }
    public NpgsqlDataSource DataSource { get; }
    public EventRecorder Recorder { get; }

    public static async Task<ReplayStore> CreateAsync()
    {
        var connectionString = await TestServers.EventStoreAsync();
        var schema = "replay_test_" + Guid.NewGuid().ToString("N")[..10];
        using (var store = DocumentStore.For(o => EventStoreSchema.Configure(o, connectionString, schema)))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await EventStoreSchema.EnsureAsync(store, timeout.Token);
        }

        return new ReplayStore(connectionString, schema, NpgsqlDataSource.Create(connectionString));
    }

    public ClusterProjection Projection(TimeSpan snapshotInterval, TimeSpan settleLag) =>
        new(DataSource, Schema) { SnapshotInterval = snapshotInterval, SettleLag = settleLag };

    public Task<int> RecordAsync(IEnumerable<LvsEvent> events) =>
        Recorder.RecordAsync(events.Select(e => new JsonEvent(e, System.Text.Encoding.UTF8.GetString(EventJson.Serialize(e)))).ToList(), CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await using (var command = DataSource.CreateCommand($"drop schema if exists {Schema} cascade"))
        {
            await command.ExecuteNonQueryAsync();
        }

        await DataSource.DisposeAsync();
    }

    /// <summary>The view a plain fold of <paramref name="events"/> up to <paramref name="at"/> gives, in time order: what the store must answer.</summary>
    public static ClusterView Fold(IEnumerable<LvsEvent> events, DateTimeOffset at)
    {
        var view = new ClusterView();
        foreach (var e in events.Where(e => e.OccurredAt <= at && !ClusterProjection.SkippedTypes.Contains(e.EventType)).OrderBy(e => e.OccurredAt))
        {
            view.Apply(e);
        }

        return view;
    }
}
