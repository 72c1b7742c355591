using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Reconciliation;
using LvsEvents.IpvsWriter.Table;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>The reconciler against the real nftables backend, in a namespace of its own.</summary>
public sealed class ReconcilerTests : IDisposable
{
    private const string Service = "TCP/10.0.0.1:80";

    private static readonly string Text = """
        virtual_server 10.0.0.1 80 {
            lb_algo wrr
            lb_kind NAT
            protocol TCP
            real_server 10.1.0.1 80 {
                weight 3
            }
            real_server 10.1.0.2 80 {
                weight 2
            }
            real_server 10.1.0.3 80 {
                weight 1
            }
        }
        virtual_server 10.0.0.2 80 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 10.1.0.9 80 {
                weight 1
            }
        }
        """;

    private readonly NftNamespace _ns = new();
    private readonly RecordingEmitter _emitter = new();
    private readonly ManualTime _time = new();
    private readonly Reconciler _reconciler;

    public ReconcilerTests() =>
        _reconciler = new Reconciler(new NftablesBackend(_ns.Nft), _emitter, Config.Parse(Text), _time, Config.Log<Reconciler>());

    public void Dispose()
    {
        _reconciler.Dispose();
        _ns.Dispose();
    }

    private string Save() => string.Join("\n", NftablesReader.Parse(_ns.Cli("-j list table ip lvsevents")).SaveLines());

    [Fact]
    public async Task Start_programs_the_table_and_leaves_out_what_the_backend_cannot_do_without_calling_it_drift()
    {
        var operations = await _reconciler.ResyncAsync(default);

        Assert.Equal("""
            -A -t 10.0.0.1:80 -s wrr
            -a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 3
            -a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 2
            -a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1
            """.ReplaceLineEndings("\n"), Save());
        Assert.Equal(4, operations.Count);
        Assert.Equal(4, _emitter.OfType<KernelRuleApplied>().Count);
        Assert.Single(_emitter.OfType<KernelRuleApplied>().Select(e => e.CorrelationId).Distinct());
        Assert.Empty(_emitter.OfType<KernelDriftCorrected>());
        Assert.Empty(await _reconciler.ResyncAsync(default));
    }

    [Fact]
    public async Task Drift_made_by_hand_is_found_reported_and_undone()
    {
        await _reconciler.ResyncAsync(default);

        // By hand: 10.1.0.3 removed from the map, 10.1.0.2 at weight 4, and a service nobody configured.
        _ns.Cli("flush chain ip lvsevents s_tcp_10_0_0_1_80");
        _ns.Cli("add rule ip lvsevents s_tcp_10_0_0_1_80 meta l4proto tcp counter dnat to numgen random mod 7 map { 0-2 : 10.1.0.1 . 80, 3-6 : 10.1.0.2 . 80 } comment \\\"lvs s=wrr\\\"");
        _ns.Cli("add chain ip lvsevents s_tcp_10_0_0_7_22");
        _ns.Cli("add set ip lvsevents s_tcp_10_0_0_7_22_q { type ipv4_addr . inet_service; }");
        _ns.Cli("add rule ip lvsevents s_tcp_10_0_0_7_22 meta l4proto tcp counter dnat to numgen random mod 1 map { 0 : 10.1.0.7 . 22 } comment \\\"lvs s=rr\\\"");
        _ns.Cli("add element ip lvsevents services { 10.0.0.7 . tcp . 22 : jump s_tcp_10_0_0_7_22 }");

        var operations = await _reconciler.ResyncAsync(default);

        var drift = Assert.Single(_emitter.OfType<KernelDriftCorrected>());
        Assert.Equal("nftables", drift.Backend);
        Assert.Equal(
            [
                "differs: -a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 4 (want -a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 2)",
                "missing: -a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1",
                "unexpected: -A -t 10.0.0.7:22 -s rr",
            ],
            drift.Differences);
        Assert.Equal(3, operations.Count);
        Assert.All(_emitter.OfType<KernelRuleApplied>().Where(e => e.CorrelationId == drift.CorrelationId), e => Assert.Equal("nftables", e.Backend));
        Assert.Equal(3, _emitter.OfType<KernelRuleApplied>().Count(e => e.CorrelationId == drift.CorrelationId));
        Assert.DoesNotContain("10.0.0.7", Save());
        Assert.Contains("-a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1", Save());
    }

    [Fact]
    public async Task An_event_applies_only_its_change_with_before_after_and_the_causing_event()
    {
        await _reconciler.ResyncAsync(default);
        var command = new SetWeightCommand
        {
            EventId = Guid.CreateVersion7(), CorrelationId = Guid.CreateVersion7(), RealServer = RealServerRef.Parse($"{Service}->10.1.0.3:80"),
            Weight = 5, Cause = WeightChangeCause.Operator, RequestedBy = "ops",
        };

        var operations = await _reconciler.HandleAsync(command, default);

        var op = Assert.Single(operations);
        Assert.Equal(KernelOperation.EditDestination, op.Kind);
        var applied = _emitter.OfType<KernelRuleApplied>().Last();
        Assert.Equal("-a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1", applied.Before);
        Assert.Equal("-a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 5", applied.After);
        Assert.Equal(command.CorrelationId, applied.CorrelationId);
        Assert.Equal(command.EventId, applied.CausationId);
        Assert.Equal(RealServerRef.Parse($"{Service}->10.1.0.3:80"), applied.RealServer);
        Assert.Contains("-a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 5", Save());

        // The same event again changes nothing and writes nothing.
        Assert.Empty(await _reconciler.HandleAsync(command, default));
    }

    [Fact]
    public async Task Drain_holds_weight_0_until_the_timeout_then_deletes_and_restore_brings_it_back()
    {
        await _reconciler.ResyncAsync(default);
        var server = RealServerRef.Parse($"{Service}->10.1.0.1:80");
        var drain = new DrainCommand { EventId = Guid.CreateVersion7(), RealServer = server, Timeout = TimeSpan.FromSeconds(30), RequestedBy = "recovery" };

        await _reconciler.HandleAsync(drain, default);
        Assert.Contains("-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 0", Save());
        Assert.Contains("elements = { 10.1.0.1 . 80 }", _ns.Cli("list set ip lvsevents s_tcp_10_0_0_1_80_q"));
        Assert.DoesNotContain("10.1.0.1 . 80", _ns.Cli("list chain ip lvsevents s_tcp_10_0_0_1_80"));

        _time.Now += TimeSpan.FromSeconds(29);
        Assert.Empty(await _reconciler.TickAsync(default));
        _time.Now += TimeSpan.FromSeconds(1);
        var deleted = Assert.Single(await _reconciler.TickAsync(default));
        Assert.Equal(KernelOperation.DeleteDestination, deleted.Kind);
        Assert.Equal(drain.EventId, _emitter.OfType<KernelRuleApplied>().Last().CausationId);
        Assert.DoesNotContain("10.1.0.1:80", Save());

        await _reconciler.HandleAsync(new RestoreCommand { RealServer = server, RequestedBy = "ops" }, default);
        Assert.Contains("-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 3", Save());
    }

    [Fact]
    public async Task A_reload_adds_and_removes_services()
    {
        await _reconciler.ResyncAsync(default);
        var reloaded = Config.Parse(Text.Replace("10.0.0.1 80", "10.0.0.3 8080", StringComparison.Ordinal));

        var operations = await _reconciler.SetConfigurationAsync(reloaded, null, default);

        Assert.Equal([KernelOperation.AddService, KernelOperation.AddDestination, KernelOperation.AddDestination, KernelOperation.AddDestination, KernelOperation.DeleteService],
            operations.Select(o => o.Kind));
        Assert.StartsWith("-A -t 10.0.0.3:8080 -s wrr", Save());
        Assert.DoesNotContain("10.0.0.1:80", Save());
    }

    [Fact]
    public async Task A_stale_table_from_an_earlier_run_is_reported_as_drift_at_start()
    {
        var backend = new NftablesBackend(_ns.Nft);
        await backend.ReplaceAsync(KernelTable.Of([KernelService.Create(new ServiceKey("TCP", "10.0.0.1", 80), "wrr", null, null,
            [new KernelDestination(new DestinationKey("10.1.0.1", 80), 1)])]), default);

        await _reconciler.ResyncAsync(default);

        Assert.Equal(
            ["differs: -a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1 (want -a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 3)", "missing: -a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 2", "missing: -a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1"],
            Assert.Single(_emitter.OfType<KernelDriftCorrected>()).Differences);
    }

    [Fact]
    public async Task Incremental_changes_end_where_a_full_rebuild_would_and_the_kernel_agrees()
    {
        await _reconciler.ResyncAsync(default);
        var random = new Random(7);
        var servers = new[] { "10.1.0.1:80", "10.1.0.2:80", "10.1.0.3:80" };
        for (var i = 0; i < 150; i++)
        {
            var server = RealServerRef.Parse($"{Service}->{servers[random.Next(3)]}");
            LvsEvent e = random.Next(5) switch
            {
                0 => Config.Down(Service, $"{server.Address}:{server.Port}"),
                1 => Config.Up(Service, $"{server.Address}:{server.Port}"),
                2 => new SetWeightCommand { RealServer = server, Weight = random.Next(0, 6), Cause = WeightChangeCause.Operator, RequestedBy = "ops" },
                3 => new DrainCommand { RealServer = server, Timeout = TimeSpan.FromSeconds(random.Next(1, 4)), RequestedBy = "ops" },
                _ => new RestoreCommand { RealServer = server, RequestedBy = "ops" },
            };
            await _reconciler.HandleAsync(e, default);
            _time.Now += TimeSpan.FromSeconds(1);
            await _reconciler.TickAsync(default);
        }

        Assert.Equal(_reconciler.Desired().SaveLines(), _reconciler.Applied!.SaveLines());
        Assert.Equal(string.Join("\n", _reconciler.Applied.SaveLines()), Save());
        Assert.Empty(await _reconciler.ResyncAsync(default));
        Assert.Empty(_emitter.OfType<KernelDriftCorrected>());
    }

    [Fact]
    public async Task The_health_snapshot_heals_what_was_missed_and_changes_nothing_when_already_known()
    {
        await _reconciler.ResyncAsync(default);
        VirtualServiceHealthSnapshot Snapshot(HealthState second, int thirdWeight) => new()
        {
            EventId = Guid.CreateVersion7(), NodeId = "d1", VirtualService = VirtualServiceRef.Parse(Service), SnapshotId = Guid.CreateVersion7(),
            VirtualServiceCount = 1, QuorumUp = true, LiveWeight = 4, Quorum = 1, Hysteresis = 0,
            RealServers =
            [
                new RealServerHealthEntry("10.1.0.1:80", HealthState.Up, 3, 0),
                new RealServerHealthEntry("10.1.0.2:80", second, 2, second == HealthState.Down ? 1 : 0),
                new RealServerHealthEntry("10.1.0.3:80", HealthState.Up, thirdWeight, 0),
            ],
        };

        // The writer missed "10.1.0.2 down" and a misc_dynamic weight 4 for 10.1.0.3 while the bus was away.
        var missed = Snapshot(HealthState.Down, 4);
        var operations = await _reconciler.HandleAsync(missed, default);

        Assert.Equal(["DeleteDestination -a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 2", "EditDestination -a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1 → -a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 4"],
            operations.Select(o => o.Change()).Order(StringComparer.Ordinal));
        Assert.All(_emitter.OfType<KernelRuleApplied>().Where(e => e.CausationId == missed.EventId), e => Assert.Equal(missed.EventId, e.CorrelationId));
        Assert.Empty(await _reconciler.HandleAsync(Snapshot(HealthState.Down, 4), default));

        Assert.Equal(2, (await _reconciler.HandleAsync(Snapshot(HealthState.Up, 1), default)).Count);
        Assert.Contains("-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 2", Save());
        Assert.Contains("-a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1", Save());
        Assert.True(WriterEventConsumer.Relevant(missed, "d1"));
    }
}
