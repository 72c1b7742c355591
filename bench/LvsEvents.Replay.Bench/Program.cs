using System.Diagnostics;
using System.Globalization;
using System.Text;
using LvsEvents.Contracts;
using LvsEvents.EventStore;
using LvsEvents.Replay;
using Marten;
using Npgsql;

// lvs-replay-bench [--events 1000000] [--schema NAME] [--keep]
// Loads a realistic mix (mostly probe results of 1,000 real servers, probed every 10 s) into a schema of its own,
// then times: a rebuild of the cluster view, state at random instants, and a postmortem of a 1-hour window.
var count = 1_000_000;
var schema = "replay_bench_" + Guid.NewGuid().ToString("N")[..8];
var keep = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--events": count = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--schema": schema = args[++i]; break;
        case "--keep": keep = true; break;
        default: Console.Error.WriteLine("usage: lvs-replay-bench [--events N] [--schema NAME] [--keep]"); return 2;
    }
}

var connectionString = EventStoreSchema.Validate(Environment.GetEnvironmentVariable("ConnectionStrings__eventstore"));
using (var store = DocumentStore.For(o => EventStoreSchema.Configure(o, connectionString, schema)))
{
    await EventStoreSchema.EnsureAsync(store, CancellationToken.None);
}

await using var dataSource = NpgsqlDataSource.Create(connectionString);
try
{
    var recorder = new EventRecorder(dataSource, schema);
    var generator = new Generator(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
    var clock = Stopwatch.StartNew();
    var loaded = 0;
    var mix = new Dictionary<string, int>(StringComparer.Ordinal);
    while (loaded < count)
    {
        var batch = generator.Next(Math.Min(10_000, count - loaded));
        foreach (var e in batch)
        {
            mix[e.EventType] = mix.GetValueOrDefault(e.EventType) + 1;
        }

        loaded += await recorder.RecordAsync(batch.Select(e => new JsonEvent(e, Encoding.UTF8.GetString(EventJson.Serialize(e)))).ToList(), CancellationToken.None);
        if (loaded % 100_000 < 10_000)
        {
            Console.Error.Write($"\rloaded {loaded:N0}");
        }
    }

    Console.Error.WriteLine();
    var first = generator.Start;
    var last = generator.Now;
    Console.WriteLine($"loaded {loaded:N0} events spanning {first:u} .. {last:u} ({(last - first).TotalHours:0.0} h) in {clock.Elapsed.TotalSeconds:0.0} s");
    Console.WriteLine("mix: " + string.Join(", ", mix.OrderByDescending(m => m.Value).Select(m => $"{m.Key} {m.Value:N0}")));
    await using (var analyze = dataSource.CreateCommand($"analyze {schema}.mt_events"))
    {
        await analyze.ExecuteNonQueryAsync();
    }

    var projection = new ClusterProjection(dataSource, schema);
    clock.Restart();
    await projection.EnsureSchemaAsync(CancellationToken.None);
    Console.WriteLine($"indexes (time; time without probe results) built in {clock.Elapsed.TotalSeconds:0.00} s");

    clock.Restart();
    var rebuilt = await projection.RebuildAsync(CancellationToken.None);
    var rebuild = clock.Elapsed;
    Console.WriteLine($"rebuild of the cluster view: {rebuild.TotalSeconds:0.00} s ({rebuilt.EventsApplied:N0} state events folded, snapshots every {projection.SnapshotInterval.TotalMinutes} min)");

    var random = new Random(42);
    var times = new List<double>();
    for (var i = 0; i < 10; i++)
    {
        var at = first + TimeSpan.FromSeconds(random.NextDouble() * (last - first).TotalSeconds);
        clock.Restart();
        var state = await projection.StateAtAsync(at, CancellationToken.None);
        times.Add(clock.Elapsed.TotalMilliseconds);
        if (i == 0)
        {
            Console.WriteLine($"  e.g. state at {at:u}: snapshot {state.SnapshotAt:u} + {state.EventsReplayed} events, {state.View.VirtualServices.Sum(v => v.Value.RealServers.Count)} real servers");
        }
    }

    times.Sort();
    Console.WriteLine($"state --at (10 random instants): median {times[5]:0} ms, max {times[^1]:0} ms");

    var hourFrom = first + (last - first) / 2 - TimeSpan.FromMinutes(30);
    clock.Restart();
    var report = await new PostmortemBuilder(projection).BuildAsync(hourFrom, hourFrom + TimeSpan.FromHours(1), CancellationToken.None);
    var text = ReportText.Postmortem(report);
    var html = ReportHtml.Render(report);
    var postmortem = clock.Elapsed;
    Console.WriteLine($"postmortem of 1 hour ({hourFrom:u}): {postmortem.TotalSeconds:0.00} s, {report.EventsRead:N0} events, {report.Failovers.Count} failovers, {report.Outages.Count} outages, {report.Alerts.Count} alerts; text {text.Length / 1024} KiB, HTML {html.Length / 1024} KiB");

    clock.Restart();
    var hourEvents = 0L;
    await foreach (var _ in projection.Events.ReadAsync(new EventFilter { From = hourFrom, To = hourFrom + TimeSpan.FromHours(1) }, CancellationToken.None))
    {
        hourEvents++;
    }

    Console.WriteLine($"replay of the same hour, every event decoded: {hourEvents:N0} events in {clock.Elapsed.TotalSeconds:0.00} s");
    Console.WriteLine($"targets: rebuild < 10 s {(rebuild.TotalSeconds < 10 ? "met" : "MISSED")}, state --at < 1 s {(times[^1] < 1000 ? "met" : "MISSED")}, postmortem < 5 s {(postmortem.TotalSeconds < 5 ? "met" : "MISSED")}");
    return 0;
}
finally
{
    if (!keep)
    {
        await using var drop = dataSource.CreateCommand($"drop schema if exists {schema} cascade");
        await drop.ExecuteNonQueryAsync();
    }
    else
    {
        Console.WriteLine($"kept schema {schema}");
    }
}

/// <summary>
/// A day in the life of a director pair: 1,000 real servers in 20 virtual services probed every 10 s by the
/// master's health checker; a real server fails every 20 s for a minute (health, weight,
/// kernel on both directors, alert); a failover every 20 minutes; health snapshots every 5 minutes; a reload every 30.
/// </summary>
sealed class Generator(DateTimeOffset start)
{
    private const int Services = 20;
    private const int PerService = 50;
    private static readonly string[] Directors = ["dir1", "dir2"];
    private readonly Random _random = new(7);
    private readonly Queue<LvsEvent> _queue = new();
    private readonly Dictionary<int, DateTimeOffset> _down = [];
    private int _master;
    private long _round;

    public DateTimeOffset Start { get; } = start;
    public DateTimeOffset Now { get; private set; } = start;

    public List<LvsEvent> Next(int n)
    {
        while (_queue.Count < n)
        {
            Round();
        }

        var list = new List<LvsEvent>(n);
        for (var i = 0; i < n; i++)
        {
            list.Add(_queue.Dequeue());
        }

        return list;
    }

    private static RealServerRef Rs(int i) => new(VirtualServiceRef.Tcp($"10.0.{i / PerService}.100", 80), $"10.1.{i / 250}.{i % 250 + 1}", 80);

    private T Stamp<T>(T e, DateTimeOffset at, string node, string service) where T : LvsEvent
    {
        var id = Guid.CreateVersion7(at);
        return e with { EventId = id, OccurredAt = at, NodeId = node, Service = service, CorrelationId = id };
    }

    // One 10-second probe round, with whatever else happens in it.
    private void Round()
    {
        var t0 = Start + TimeSpan.FromSeconds(10 * _round);
        var master = Directors[_master];
        for (var i = 0; i < Services * PerService; i++)
        {
            var at = t0 + TimeSpan.FromMilliseconds(i * 10);
            var ok = !_down.ContainsKey(i);
            _queue.Enqueue(Stamp(new ProbeCompleted
            {
                RealServer = Rs(i), Checker = $"HTTP_GET {Rs(i).Address}:80/health", Success = ok,
                Latency = TimeSpan.FromMilliseconds(ok ? 2 : 3000), Error = ok ? ProbeErrorClass.None : ProbeErrorClass.Timeout,
            }, at, master, "health"));
        }

        if (_round % 2 == 0)
        {
            var victim = _random.Next(Services * PerService);
            if (_down.TryAdd(victim, t0))
            {
                Change(victim, t0 + TimeSpan.FromSeconds(9.5), down: true);
            }
        }

        foreach (var (server, since) in _down.ToList())
        {
            if (t0 - since >= TimeSpan.FromSeconds(60))
            {
                _down.Remove(server);
                Change(server, t0 + TimeSpan.FromSeconds(9.6), down: false);
            }
        }

        if (_round % 120 == 60)
        {
            // Failover: the master goes silent, the backup takes over.
            var old = Directors[_master];
            _master = 1 - _master;
            var now = Directors[_master];
            var at = t0 + TimeSpan.FromSeconds(5);
            for (var instance = 1; instance <= 4; instance++)
            {
                var name = $"VI_{instance}";
                _queue.Enqueue(Stamp(new VrrpStateChanged
                {
                    Instance = name, VirtualRouterId = 50 + instance, From = VrrpState.Backup, To = VrrpState.Master, Reason = VrrpTransitionReason.MasterDownTimerExpired,
                    Priority = 100, EffectivePriority = 100, Evidence = new VrrpEvidence("10.0.255.1", 150, at - TimeSpan.FromSeconds(3.6), 3, TimeSpan.FromSeconds(3.6)),
                }, at, now, "vrrp"));
                _queue.Enqueue(Stamp(new VipAcquired { Instance = name, VirtualRouterId = 50 + instance, Address = $"10.0.{instance}.100/24", Interface = "eth0" }, at + TimeSpan.FromMilliseconds(2), now, "vrrp"));
                _queue.Enqueue(Stamp(new GratuitousArpSent { Instance = name, Addresses = [$"10.0.{instance}.100"], Interface = "eth0", Count = 5, Reason = "became master" }, at + TimeSpan.FromMilliseconds(3), now, "vrrp"));
                _queue.Enqueue(Stamp(new VrrpStateChanged
                {
                    Instance = name, VirtualRouterId = 50 + instance, From = VrrpState.Master, To = VrrpState.Backup, Reason = VrrpTransitionReason.HigherPriorityAdvertSeen,
                    Priority = 150, EffectivePriority = 150,
                }, at + TimeSpan.FromSeconds(8), old, "vrrp"));
                _queue.Enqueue(Stamp(new VipReleased { Instance = name, VirtualRouterId = 50 + instance, Address = $"10.0.{instance}.100/24", Interface = "eth0", Reason = "backup" }, at + TimeSpan.FromSeconds(8.01), old, "vrrp"));
            }
        }

        if (_round % 30 == 0)
        {
            for (var vs = 0; vs < Services; vs++)
            {
                var service = VirtualServiceRef.Tcp($"10.0.{vs}.100", 80);
                var entries = Enumerable.Range(vs * PerService, PerService)
                    .Select(i => new RealServerHealthEntry(ClusterView.EndpointOf(Rs(i)), _down.ContainsKey(i) ? HealthState.Down : HealthState.Up, _down.ContainsKey(i) ? 0 : 1, _down.ContainsKey(i) ? 1 : 0)).ToList();
                _queue.Enqueue(Stamp(new VirtualServiceHealthSnapshot
                {
                    VirtualService = service, SnapshotId = Guid.CreateVersion7(t0), VirtualServiceCount = Services, QuorumUp = true,
                    LiveWeight = entries.Sum(e => e.Weight), Quorum = 10, Hysteresis = 0, RealServers = entries,
                }, t0 + TimeSpan.FromSeconds(9.9), master, "health"));
            }
        }

        if (_round % 180 == 90)
        {
            _queue.Enqueue(Stamp(new ConfigurationApplied
            {
                File = "/etc/keepalived/keepalived.conf", Hash = Guid.NewGuid().ToString("N"),
                Changes = [new ConfigurationChange("real_server", "10.0.1.100:80/TCP -> 10.1.0.1:80", ChangeKind.Changed, [new FieldChange("weight", "1", "2")])],
            }, t0 + TimeSpan.FromSeconds(1), master, "health"));
        }

        Now = t0 + TimeSpan.FromSeconds(10);
        _round++;
    }

    private void Change(int server, DateTimeOffset at, bool down)
    {
        var rs = Rs(server);
        var master = Directors[_master];
        _queue.Enqueue(Stamp(new RealServerHealthChanged { RealServer = rs, From = down ? HealthState.Up : HealthState.Down, To = down ? HealthState.Down : HealthState.Up, Checker = "HTTP_GET" }, at, master, "health"));
        _queue.Enqueue(Stamp(new RealServerWeightChanged { RealServer = rs, OldWeight = down ? 1 : 0, NewWeight = down ? 0 : 1, Cause = WeightChangeCause.Health }, at + TimeSpan.FromMilliseconds(1), master, "health"));
        foreach (var director in Directors)
        {
            _queue.Enqueue(Stamp(new KernelRuleApplied
            {
                Backend = "ipvs", Operation = KernelOperation.EditDestination, VirtualService = rs.VirtualService, RealServer = rs,
                Before = $"-a -t {rs.VirtualService.Address}:80 -r {rs.Address}:80 -m -w {(down ? 1 : 0)}", After = $"-a -t {rs.VirtualService.Address}:80 -r {rs.Address}:80 -m -w {(down ? 0 : 1)}",
            }, at + TimeSpan.FromMilliseconds(5), director, "ipvs-writer"));
        }

        var key = $"real-server-down:{rs}";
        _queue.Enqueue(down
            ? Stamp(new AlertRaised { AlertKey = key, Rule = "real-server-down", Severity = AlertSeverity.Warning, Subject = rs.ToString(), Message = "down" }, at + TimeSpan.FromMilliseconds(10), master, "monitor")
            : Stamp(new AlertResolved { AlertKey = key, Rule = "real-server-down", Subject = rs.ToString(), Duration = TimeSpan.FromSeconds(60) }, at + TimeSpan.FromMilliseconds(10), master, "monitor"));
    }
}
