using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using LvsEvents.Contracts;

namespace LvsEvents.Replay.Tests;

/// <summary>The live projection against holes in the store's sequence, with the real PostgreSQL sequence.</summary>
public sealed class LiveProjectionTests : IAsyncLifetime
{
    private ReplayStore _store = null!;

    public async Task InitializeAsync() => _store = await ReplayStore.CreateAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private static LvsEvent Health(DateTimeOffset at, HealthState to)
    {
        var id = Guid.CreateVersion7(at);
        return new RealServerHealthChanged
        {
            RealServer = FailoverScenario.Server, From = to == HealthState.Up ? HealthState.Down : HealthState.Up, To = to, Checker = "TCP_CHECK",
            EventId = id, OccurredAt = at, NodeId = "n1", Service = "health", CorrelationId = id,
        };
    }

    [Fact(Timeout = 60_000)]
    public async Task An_append_still_in_flight_holds_the_live_view_back_until_it_commits_or_is_given_up()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(50));
        var live = new ClusterProjection(_store.DataSource, _store.Schema) { GapTimeout = TimeSpan.FromSeconds(1.5) };
        var t = DateTimeOffset.UtcNow;
        await _store.RecordAsync([Health(t, HealthState.Up)]);
        await live.CatchUpAsync(cancel.Token);

        // Another writer has taken the next sequence number and not committed yet.
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancel.Token);
        await using var transaction = await connection.BeginTransactionAsync(cancel.Token);
        await using (var take = new Npgsql.NpgsqlCommand($"select nextval('{_store.Schema}.mt_events_sequence')", connection, transaction))
        {
            await take.ExecuteScalarAsync(cancel.Token);
        }

        await _store.RecordAsync([Health(t.AddSeconds(1), HealthState.Down)]);
        var view = await live.CatchUpAsync(cancel.Token);
        var rs = view.VirtualServices[FailoverScenario.Server.VirtualService.ToString()].RealServers[ClusterView.EndpointOf(FailoverScenario.Server)];
        Assert.Equal(HealthState.Up, rs.Health); // the event above the hole waits

        await transaction.RollbackAsync(cancel.Token);
        await Task.Delay(TimeSpan.FromSeconds(2), cancel.Token);
        view = await live.CatchUpAsync(cancel.Token);
        rs = view.VirtualServices[FailoverScenario.Server.VirtualService.ToString()].RealServers[ClusterView.EndpointOf(FailoverScenario.Server)];
        Assert.Equal(HealthState.Down, rs.Health); // the hole is old: given up, the event is in
        Assert.Equal(2, view.EventsApplied);
    }
}

/// <summary><c>lvsctl replay --follow</c> prints what is recorded after it started.</summary>
public sealed class FollowTests : IAsyncLifetime
{
    private ReplayStore _store = null!;

    public async Task InitializeAsync() => _store = await ReplayStore.CreateAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact(Timeout = 60_000)]
    public async Task Replay_follow_prints_the_window_then_new_events_that_match_until_stopped()
    {
        var t = DateTimeOffset.UtcNow;
        LvsEvent Alert(string key, double seconds, string node)
        {
            var at = t.AddSeconds(seconds);
            var id = Guid.CreateVersion7(at);
            return new AlertRaised { AlertKey = key, Rule = "r", Severity = AlertSeverity.Info, Subject = key, Message = "m", EventId = id, OccurredAt = at, NodeId = node, Service = "monitor", CorrelationId = id };
        }

        await _store.RecordAsync([Alert("old", -5, "n1")]);
        Environment.SetEnvironmentVariable("ConnectionStrings__eventstore", _store.ConnectionString);
        var output = new StringWriter();
        var synchronized = TextWriter.Synchronized(output);
        using var stop = new CancellationTokenSource();
        var follow = Task.Run(() => new LvsEvents.Lvsctl.Commands.ReplayCommand().Run(
            ["--from", "-1m", "--follow", "--node", "n1", "--schema", _store.Schema], synchronized, TextWriter.Null, stop.Token));
        string Text() { lock (synchronized) { return output.ToString(); } }
        Assert.NotNull(await LvsEvents.TestInfrastructure.Network.Poll.Until(() => Text().Contains("\"alertKey\":\"old\"", StringComparison.Ordinal), TimeSpan.FromSeconds(20)));

        await _store.RecordAsync([Alert("other-node", 1, "n2"), Alert("new", 2, "n1")]);
        Assert.NotNull(await LvsEvents.TestInfrastructure.Network.Poll.Until(() => Text().Contains("\"alertKey\":\"new\"", StringComparison.Ordinal), TimeSpan.FromSeconds(20)));
        stop.Cancel();
        Assert.Equal(0, await follow.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain("other-node", Text(), StringComparison.Ordinal);
        Assert.Equal(2, Text().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}

/// <summary>The replay indexes on Marten's mt_events against Marten's own migration.</summary>
public sealed class IndexTests : IAsyncLifetime
{
    private ReplayStore _store = null!;

    public async Task InitializeAsync() => _store = await ReplayStore.CreateAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private async Task<List<string>> IndexesAsync()
    {
        await using var command = _store.DataSource.CreateCommand("select indexname from pg_indexes where schemaname = @s and tablename = 'mt_events' and indexname like 'lvs\\_replay\\_events\\_%' order by 1");
        command.Parameters.AddWithValue("s", _store.Schema);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    [Fact(Timeout = 60_000)]
    public async Task The_time_indexes_exist_after_a_Marten_migration_once_the_projection_has_ensured_its_schema()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(50));
        var projection = _store.Projection(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1));
        await projection.EnsureSchemaAsync(cancel.Token);
        string[] expected = ["lvs_replay_events_state_time", "lvs_replay_events_time"];
        Assert.Equal(expected, await IndexesAsync());

        // What the monitor does at every start.
        using (var store = Marten.DocumentStore.For(o => LvsEvents.EventStore.EventStoreSchema.Configure(o, _store.ConnectionString, _store.Schema)))
        {
            await LvsEvents.EventStore.EventStoreSchema.EnsureAsync(store, cancel.Token);
        }

        var afterMigration = await IndexesAsync();
        Console.WriteLine($"replay indexes after a Marten migration: [{string.Join(", ", afterMigration)}]");
        await projection.EnsureSchemaAsync(cancel.Token);
        Assert.Equal(expected, await IndexesAsync());
    }
}

/// <summary>The hosted live projection as the monitor would register it (<c>AddClusterViewProjection</c>).</summary>
public sealed class HostedProjectionTests : IAsyncLifetime
{
    private ReplayStore _store = null!;

    public async Task InitializeAsync() => _store = await ReplayStore.CreateAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact(Timeout = 60_000)]
    public async Task The_hosted_projection_keeps_the_live_view_and_snapshots_as_events_are_recorded()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:eventstore"] = _store.ConnectionString,
            ["EventStore:Schema"] = _store.Schema,
        });
        builder.Services.AddLogging();
        builder.Services.AddClusterViewProjection(builder.Configuration);
        LiveClusterProjection.Interval = TimeSpan.FromMilliseconds(200);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var reader = _store.Projection(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1));
            var t = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(30);
            var events = Enumerable.Range(0, 30).Select(i =>
            {
                var at = t + TimeSpan.FromMinutes(i);
                var id = Guid.CreateVersion7(at);
                return (LvsEvent)new RealServerWeightChanged
                {
                    RealServer = FailoverScenario.Server, OldWeight = i, NewWeight = i + 1, Cause = WeightChangeCause.Operator,
                    EventId = id, OccurredAt = at, NodeId = "n1", Service = "lvsctl", CorrelationId = id,
                };
            }).ToList();
            await _store.RecordAsync(events);
            int? Weight() => reader.ReadLiveAsync(CancellationToken.None).GetAwaiter().GetResult()?.View.VirtualServices.Values.SingleOrDefault()?.RealServers.Values.Single().Weight;
            Assert.NotNull(await LvsEvents.TestInfrastructure.Network.Poll.Until(() => Weight() == 30, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200)));

            // The settled part went into 10-minute snapshots: an instant 15 minutes in starts from one.
            var at = t + TimeSpan.FromMinutes(15.5);
            var state = await reader.StateAtAsync(at, CancellationToken.None);
            Assert.NotNull(state.SnapshotAt);
            Assert.Equal(ReplayStore.Fold(events, at).ToJson(), state.View.ToJson());
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
