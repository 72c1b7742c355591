using System.Diagnostics;
using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.EventStore;
using LvsEvents.Influx;
using LvsEvents.TestInfrastructure;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LvsEvents.Pipeline.Tests;

[Collection(BusCollection.Name)]
public sealed class EventPipelineTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _node = "test-" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "lvs-pipeline-test-" + Guid.NewGuid().ToString("N"));
    private readonly List<IHost> _hosts = [];
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow.AddMinutes(-1);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }

        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    private async Task<IHost> Keep(Task<IHost> starting)
    {
        var host = await starting;
        _hosts.Add(host);
        return host;
    }

    private async Task<IReadOnlyList<RecordedEvent>> NodeEvents(IHost monitor) =>
        (await PipelineHosts.Store(monitor).ReadAsync(_start, DateTimeOffset.UtcNow.AddMinutes(1)))
        .Where(r => r.Event.NodeId == _node).ToList();

    [Fact]
    public async Task Every_event_type_a_service_emits_is_recorded_in_its_stream_and_reaches_influxdb()
    {
        var monitor = await Keep(PipelineHosts.StartMonitorAsync(_node, _spool));
        var service = await Keep(PipelineHosts.StartEmitterAsync("test-service", _node, _spool));
        var emitter = service.Services.GetRequiredService<IEventEmitter>();

        var emitted = new List<LvsEvent>();
        foreach (var sample in SampleEvents.OneOfEach(_node))
        {
            emitted.Add(await emitter.EmitAsync(sample with { EventId = Guid.Empty, OccurredAt = default, Service = "" }));
        }

        var ids = emitted.Select(e => e.EventId).ToHashSet();
        var recorded = await PipelineHosts.WaitForAsync(
            () => NodeEvents(monitor),
            events => ids.IsSubsetOf(events.Select(r => r.Event.EventId)),
            Patience,
            $"{ids.Count} emitted events in the store");

        var store = PipelineHosts.Store(monitor);
        foreach (var e in emitted)
        {
            var stream = await store.ReadAsync(e.OccurredAt.AddMilliseconds(-1), e.OccurredAt.AddMilliseconds(1), e.StreamKey);
            var found = Assert.Single(stream, r => r.Event.EventId == e.EventId);
            Assert.Equal(e.StreamKey, found.StreamKey);
            Assert.Equal(JsonSerializer.Serialize(e, EventJson.Options), JsonSerializer.Serialize(found.Event, EventJson.Options));
            Assert.Equal("test-service", found.Event.Service);
        }

        // The same events through Marten's own stream read.
        var vrrp = emitted.OfType<VrrpStateChanged>().Single();
        var instanceStream = await store.ReadStreamAsync(vrrp.StreamKey);
        Assert.Contains(instanceStream, r => r.Event.EventId == vrrp.EventId);
        Assert.Equal(emitted.Count + 1, recorded.Count(r => r.Event.Service == "test-service")); // + its ServiceStarted

        var influx = new InfluxQueryClient(new HttpClient(), InfluxEndpoint.Parse(await TestServers.InfluxDbAsync()));
        var probe = emitted.OfType<ProbeCompleted>().Single();
        var series = await PipelineHosts.WaitForAsync(
            () => influx.QueryAsync($"SELECT success, latency_ms, error FROM probe WHERE node = '{_node}'", CancellationToken.None),
            s => s.Count > 0,
            Patience,
            "the probe point in InfluxDB");
        Assert.False(series[0].Get(0, "success").GetBoolean());
        Assert.Equal(3.25, series[0].Get(0, "latency_ms").GetDouble());
        Assert.Equal("BadStatus", series[0].Get(0, "error").GetString());
        Assert.Equal((probe.OccurredAt - DateTimeOffset.UnixEpoch).Ticks * 100, series[0].Get(0, "time").GetInt64());
        var state = await influx.QueryAsync($"SELECT \"to\", priority FROM vrrp_state WHERE node = '{_node}' AND instance = 'VI_1'", CancellationToken.None);
        Assert.Equal("Master", state[0].Get(0, "to").GetString());
    }

    [Fact]
    public async Task The_monitor_keeps_the_replays_live_cluster_view_as_it_records()
    {
        var monitor = await Keep(PipelineHosts.StartMonitorAsync(_node, _spool));
        var service = await Keep(PipelineHosts.StartEmitterAsync("test-service", _node, _spool));
        var emitter = service.Services.GetRequiredService<IEventEmitter>();
        var vip = $"10.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}";
        var server = new RealServerRef(VirtualServiceRef.Tcp(vip, 80), "10.1.1.1", 80);
        await emitter.EmitAsync(new RealServerWeightChanged { RealServer = server, OldWeight = 3, NewWeight = 0, Cause = WeightChangeCause.Health });

        // What lvsctl state / status read: the view the monitor's projection saves, not one folded by the test.
        var projection = monitor.Services.GetRequiredService<Replay.ClusterProjection>();
        var live = await PipelineHosts.WaitForAsync(
            () => projection.ReadLiveAsync(CancellationToken.None),
            v => v?.View.VirtualServices.Keys.Any(k => k.Contains(vip, StringComparison.Ordinal)) == true,
            Patience,
            $"the weight change of {server} in the monitor's live cluster view");
        var real = Assert.Single(live!.Value.View.VirtualServices.Single(p => p.Key.Contains(vip, StringComparison.Ordinal)).Value.RealServers.Values);
        Assert.Equal(0, real.Weight);
    }

    [Fact]
    public async Task The_same_event_delivered_twice_is_stored_once()
    {
        var monitor = await Keep(PipelineHosts.StartMonitorAsync(_node, _spool));
        var bus = monitor.Services.GetRequiredService<IBus>();
        var events = SampleEvents.OneOfEach(_node, DateTimeOffset.UtcNow).Take(5).ToList();
        var sentinel = SampleEvents.OneOfEach(_node, DateTimeOffset.UtcNow.AddSeconds(1)).OfType<AlertRaised>().Single();

        await bus.Publish(EventBatch.Of(_node, "test", 1, events));
        await bus.Publish(EventBatch.Of(_node, "test", 1, events));
        await bus.Publish(EventBatch.Of(_node, "test", 1, [events[2], events[2]]));
        // The recorder takes messages in order: once the sentinel is in, the duplicates were handled.
        await bus.Publish(EventBatch.Of(_node, "test", 6, [sentinel]));

        var recorded = await PipelineHosts.WaitForAsync(
            () => NodeEvents(monitor),
            r => r.Any(x => x.Event.EventId == sentinel.EventId),
            Patience,
            "the sentinel event");
        var published = recorded.Where(r => r.Event.Service == "test").ToList(); // not the monitor's own ServiceStarted
        Assert.Equal(6, published.Count);
        Assert.Equal(events.Append(sentinel).Select(e => e.EventId).Order(), published.Select(r => r.Event.EventId).Order());
    }

    [Fact]
    public async Task An_event_carrying_a_NUL_character_is_recorded_and_does_not_block_the_ones_after_it()
    {
        var monitor = await Keep(PipelineHosts.StartMonitorAsync(_node, _spool));
        var service = await Keep(PipelineHosts.StartEmitterAsync("nul-test", _node, _spool));
        var emitter = service.Services.GetRequiredService<IEventEmitter>();

        var odd = await emitter.EmitAsync(new ServiceStopping { Reason = "script said \0 here" });
        var after = await emitter.EmitAsync(new ServiceStopping { Reason = "next" });

        var recorded = await PipelineHosts.WaitForAsync(
            () => NodeEvents(monitor),
            r => r.Any(x => x.Event.EventId == after.EventId),
            Patience,
            "the event after the one with a NUL");
        var stored = (ServiceStopping)Assert.Single(recorded, r => r.Event.EventId == odd.EventId).Event;
        Assert.Equal(((ServiceStopping)odd).Reason.Replace('\0', '\uFFFD'), stored.Reason);
    }

    [Fact]
    public async Task Events_queued_before_a_monitor_with_a_fresh_store_starts_are_recorded_once_its_schema_exists()
    {
        var schema = "lvs_test_" + Guid.NewGuid().ToString("N")[..12];
        var service = await Keep(PipelineHosts.StartEmitterAsync("queued-test", _node, _spool));
        var queued = await service.Services.GetRequiredService<IEventEmitter>().EmitAsync(new ServiceStopping { Reason = "queued before the monitor" });
        await PipelineHosts.WaitForAsync(
            () => Task.FromResult(service.Services.GetRequiredService<LvsEvents.Eventing.Spool.DurableEventSpool>().Depth),
            depth => depth == 0,
            Patience,
            "the broker to confirm the queued events");

        var settings = await PipelineHosts.SettingsAsync(_node, _spool);
        settings["EventStore:Schema"] = schema;
        var monitor = LvsEvents.Monitor.MonitorHost.Build(settings);
        _hosts.Add(monitor);
        await monitor.StartAsync();
        try
        {
            // Reads go through Marten too: wait for the monitor to have created the schema, as lvsctl would.
            await monitor.Services.GetRequiredService<LvsEvents.Monitor.EventStoreReadiness>().WaitAsync(new CancellationTokenSource(Patience).Token);
            var store = PipelineHosts.Store(monitor);
            var recorded = await PipelineHosts.WaitForAsync(
                async () => await store.ReadAsync(_start, DateTimeOffset.UtcNow.AddMinutes(1), "node:" + _node),
                r => r.Any(x => x.Event.EventId == queued.EventId),
                Patience,
                "the queued event in the fresh store");
            Assert.Single(recorded, r => r.Event.EventId == queued.EventId);
        }
        finally
        {
            await using var data = Npgsql.NpgsqlDataSource.Create(await TestServers.EventStoreAsync());
            await using var drop = data.CreateCommand($"drop schema if exists {schema} cascade");
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// A stop right after emitting: the spool publisher stops before the bus and delivers what is spooled, so nothing
    /// is left to be sent again at the next start (before, the bus stopped first and cut the batch on its way).
    /// </summary>
    [Fact]
    public async Task Events_spooled_just_before_a_stop_are_delivered_before_the_service_exits()
    {
        var emitter = await PipelineHosts.StartEmitterAsync("test", _node, _spool);
        var spool = emitter.Services.GetRequiredService<LvsEvents.Eventing.Spool.DurableEventSpool>();
        var publisher = emitter.Services.GetRequiredService<SpoolPublisher>();
        await PipelineHosts.WaitForAsync(() => Task.FromResult(publisher.Published), p => p >= 1, Patience, "the emitter's ServiceStarted on the bus");
        var events = Enumerable.Range(0, 2000).Select(i => (LvsEvent)new AlertRaised
        {
            AlertKey = $"stop-{i}", Rule = "stop-drain", Severity = AlertSeverity.Info, Subject = "test", Message = "emitted just before a stop",
        }).ToList();

        await emitter.Services.GetRequiredService<IEventEmitter>().EmitManyAsync(events);
        var spooled = spool.Depth;
        var clock = Stopwatch.StartNew();
        await emitter.StopAsync();
        var left = spool.Depth;
        emitter.Dispose();

        Assert.True(spooled > 0, "everything was delivered before the stop; the test proves nothing");
        Assert.Equal(0, left);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed}");
    }

    [Fact]
    public async Task Events_spooled_while_the_broker_is_down_survive_kill_9_and_reach_the_store_exactly_once()
    {
        const int count = 300;
        var monitor = await Keep(PipelineHosts.StartMonitorAsync(_node, _spool));
        await LocalStack.StopRabbitMqAsync();
        try
        {
            using (var first = EmitterProcess.Start(_node, _spool, count))
            {
                await first.WaitForLineAsync($"emitted {count}", TimeSpan.FromSeconds(60));
                first.Kill();
            }

            var spooled = Directory.GetFiles(Path.Combine(_spool, "spool-test"), "*.seg").Sum(f => new FileInfo(f).Length);
            Assert.True(spooled > count * 100, $"the spool holds {spooled} bytes for {count} events");
        }
        finally
        {
            await LocalStack.StartRabbitMqAsync();
        }

        using var second = EmitterProcess.Start(_node, _spool, 0);
        var recorded = await PipelineHosts.WaitForAsync(
            () => NodeEvents(monitor),
            r => r.OfType<RecordedEvent>().Count(x => x.Event is AlertRaised { AlertKey: var key } && key.StartsWith("spool-", StringComparison.Ordinal)) >= count,
            TimeSpan.FromSeconds(120),
            $"{count} spooled alerts in the store");
        second.Kill();

        // The monitor's own alert rules also raise alerts on this node (from other tests' events): only ours count.
        var alerts = recorded.Select(r => r.Event).OfType<AlertRaised>().Where(a => a.AlertKey.StartsWith("spool-", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"spool-{i}"), alerts.Select(a => a.AlertKey).Order(StringComparer.Ordinal).OrderBy(k => int.Parse(k[6..])));
        Assert.Equal(count, alerts.Select(a => a.EventId).Distinct().Count());
        // Order per source survives: the store sequence follows the emission order.
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"spool-{i}"), alerts.Select(a => a.AlertKey));
    }

    [Fact]
    public async Task No_password_appears_in_any_log_line_or_recorded_event()
    {
        var logs = new CapturedLogs();
        var monitor = await Keep(PipelineHosts.StartMonitorAsync(_node, _spool, logs));
        var service = await Keep(PipelineHosts.StartEmitterAsync("secret-test", _node, _spool, logs));
        // A broker that is not there makes the pipeline log its connection errors too.
        var rabbit = RabbitMqEndpoint.Parse(await TestServers.RabbitMqAsync());
        var unreachable = $"amqp://{rabbit.Username}:{Uri.EscapeDataString(rabbit.Password)}@127.0.0.1:1/{rabbit.VirtualHost}";
        var stranded = await Keep(PipelineHosts.StartEmitterAsync("secret-test-offline", _node, Path.Combine(_spool, "offline"), logs, unreachable));
        await service.Services.GetRequiredService<IEventEmitter>().EmitAsync(SampleEvents.OneOfEach(_node).OfType<ConfigurationApplied>().Single() with { EventId = Guid.Empty, OccurredAt = default });
        await stranded.Services.GetRequiredService<IEventEmitter>().EmitAsync(new ServiceStopping { Reason = "test" });
        await PipelineHosts.WaitForAsync(() => NodeEvents(monitor), r => r.Any(x => x.Event is ConfigurationApplied), Patience, "the configuration event");
        await PipelineHosts.WaitForAsync(() => Task.FromResult(logs.Lines.Count(l => l.Contains("127.0.0.1:1") || l.Contains("Broker unavailable"))), n => n > 0, Patience, "a logged connection failure");

        var secrets = new[]
        {
            rabbit.Password,
            new Npgsql.NpgsqlConnectionStringBuilder(await TestServers.EventStoreAsync()).Password!,
            new System.Data.Common.DbConnectionStringBuilder { ConnectionString = await TestServers.InfluxDbAsync() }["Password"].ToString()!,
        };
        Assert.NotEmpty(logs.Lines);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(await NodeEvents(monitor), r => JsonSerializer.Serialize(r.Event, EventJson.Options).Contains(secret, StringComparison.Ordinal));
        }
    }
}
