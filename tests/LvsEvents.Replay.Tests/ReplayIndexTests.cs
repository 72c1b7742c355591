using LvsEvents.Contracts;
using LvsEvents.EventStore;
using Marten;

namespace LvsEvents.Replay.Tests;

/// <summary>
/// The replay's indexes on mt_events survive Marten's migration (which runs at every monitor start), and a broken
/// concurrent build is replaced rather than kept.
/// </summary>
public sealed class ReplayIndexTests : IAsyncLifetime
{
    private ReplayStore _store = null!;

    public async Task InitializeAsync() => _store = await ReplayStore.CreateAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact(Timeout = 120_000)]
    public async Task Marten_migration_keeps_the_replay_indexes_and_an_invalid_one_is_rebuilt()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        var projection = _store.Projection(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1));
        await projection.EnsureSchemaAsync(cancel.Token);
        Assert.Equal([true, true], await ValidityAsync());

        // A monitor restart: Marten compares mt_events with its configuration and applies the difference.
        using (var store = DocumentStore.For(o => EventStoreSchema.Configure(o, _store.ConnectionString, _store.Schema)))
        {
            await EventStoreSchema.EnsureAsync(store, cancel.Token);
        }

        Assert.Equal([true, true], await ValidityAsync());

        // What a failed CREATE INDEX CONCURRENTLY leaves behind: the index, marked invalid. A unique index over two
        // events of one type fails that way.
        var t = DateTimeOffset.UtcNow;
        await _store.RecordAsync(Enumerable.Range(0, 2).Select(i =>
        {
            var id = Guid.CreateVersion7(t.AddSeconds(i));
            return (LvsEvent)new RealServerWeightChanged
            {
                RealServer = FailoverScenario.Server, OldWeight = i, NewWeight = i + 1, Cause = WeightChangeCause.Operator,
                EventId = id, OccurredAt = t.AddSeconds(i), NodeId = "n1", Service = "lvsctl", CorrelationId = id,
            };
        }));
        var name = EventStoreSchema.ReplayIndexes[0];
        await ExecuteAsync($"drop index {_store.Schema}.{name}");
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => ExecuteAsync($"create unique index concurrently {name} on {_store.Schema}.mt_events (type)"));
        Assert.Equal([false, true], await ValidityAsync());
        await projection.EnsureSchemaAsync(cancel.Token);
        Assert.Equal([true, true], await ValidityAsync());
    }

    private async Task<List<bool?>> ValidityAsync()
    {
        var result = new List<bool?>();
        foreach (var name in EventStoreSchema.ReplayIndexes)
        {
            await using var command = _store.DataSource.CreateCommand(
                "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2");
            command.Parameters.AddWithValue(_store.Schema);
            command.Parameters.AddWithValue(name);
            result.Add(await command.ExecuteScalarAsync() as bool?);
        }

        return result;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _store.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
