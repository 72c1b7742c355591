using System.Net;
using LvsEvents.Contracts;
using LvsEvents.TestInfrastructure.Network;
using LvsEvents.TestInfrastructure.Vrrp;
using Tmds.Linux;

namespace LvsEvents.Replay.Tests;

/// <summary>
/// Runs once for the tests that share it: two lvs-vrrp processes in a namespace LAN (a at priority 150 as master,
/// b at 100), a killed with SIGKILL, b takes over. Their events come off the real bus and are recorded with
/// EventRecorder into a schema of our own, in three batches, with the live projection catching up after each
/// (snapshots every second). After the failover, a real-server outage on b: the events the health service,
/// IPVS writer, an operator, recovery and the alerting emit for it (not produced by a running lvs-health here),
/// and a reload of b's configuration with a secret in it.
/// </summary>
public sealed class FailoverScenario : IAsyncLifetime
{
    public static readonly RealServerRef Server = new(VirtualServiceRef.Tcp("10.77.0.100", 80), "10.77.0.21", 80);
    public static readonly RealServerRef Healthy = new(VirtualServiceRef.Tcp("10.77.0.100", 80), "10.77.0.22", 80);

    private NetworkLab? _network;
    private readonly List<OurVrrpNode> _nodes = [];
    private BusTap? _bus;

    public ReplayStore Store { get; private set; } = null!;
    public ClusterProjection Live { get; private set; } = null!;
    public List<LvsEvent> Events { get; } = [];
    public string A { get; private set; } = "";
    public string B { get; private set; } = "";
    public string Instance { get; private set; } = "";
    public DateTimeOffset BeforeKill { get; private set; }
    public DateTimeOffset KilledAt { get; private set; }
    public VrrpStateChanged Takeover { get; private set; } = null!;
    public VipAcquired TakeoverVip { get; private set; } = null!;
    public DateTimeOffset DownAt { get; private set; }
    public DateTimeOffset UpAt { get; private set; }
    public DateTimeOffset FirstFailedProbe { get; private set; }
    public DateTimeOffset End { get; private set; }
    public string LiveJson { get; private set; } = "";

    public async Task InitializeAsync()
    {
        try
        {
            await RunAsync();
        }
        catch
        {
            // Whatever was started is stopped and the schema dropped even if xunit does not dispose a failed fixture.
            await DisposeAsync();
            throw;
        }
    }

    private async Task RunAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        Store = await ReplayStore.CreateAsync();
        Live = Store.Projection(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        _bus = await BusTap.StartAsync();
        _network = new NetworkLab();
        var vip = _network.Address(100);
        var a = _network.AddNode("a", 1);
        var b = _network.AddNode("b", 2);
        A = $"{_network.Id}-a";
        B = $"{_network.Id}-b";
        var rabbit = await LvsEvents.TestInfrastructure.TestServers.RabbitMqAsync();
        var first = await OurVrrpNode.StartAsync(a, new VrrpPeerSettings { RouterId = A, Vip = vip, Priority = 150, StartAsMaster = true }, rabbit);
        _nodes.Add(first);
        var second = await OurVrrpNode.StartAsync(b, new VrrpPeerSettings { RouterId = B, Vip = vip, Priority = 100 }, rabbit);
        _nodes.Add(second);
        var aMaster = await _bus.WaitForAsync<VipAcquired>(A, _ => true, TimeSpan.FromSeconds(15), "a takes the VIP");
        Instance = aMaster.Instance;
        await _bus.WaitForAsync<VrrpStateChanged>(B, e => e.To == VrrpState.Backup, TimeSpan.FromSeconds(15), "b backup");
        await Task.Delay(1500);
        await RecordNewAsync();

        BeforeKill = DateTimeOffset.UtcNow;
        first.Signal(LibC.SIGKILL);
        KilledAt = DateTimeOffset.UtcNow;
        TakeoverVip = await _bus.WaitForAsync<VipAcquired>(B, _ => true, TimeSpan.FromSeconds(10), "b takes the VIP after kill -9 of a");
        Takeover = await _bus.WaitForAsync<VrrpStateChanged>(B, e => e.To == VrrpState.Master, TimeSpan.FromSeconds(5), "b's state change to master");
        await Task.Delay(1500);
        await RecordNewAsync();

        // The real-server outage, as lvs-health / lvs-ipvs-writer / lvsctl / recovery / alerting on b tell it.
        var t = DateTimeOffset.UtcNow;
        var outage = OutageEvents(t);
        DownAt = outage.OfType<RealServerHealthChanged>().First(e => e.To == HealthState.Down).OccurredAt;
        UpAt = outage.OfType<RealServerHealthChanged>().First(e => e.From == HealthState.Down && e.To == HealthState.Up).OccurredAt;
        FirstFailedProbe = outage.OfType<ProbeCompleted>().First(p => !p.Success).OccurredAt;
        End = outage.Max(e => e.OccurredAt) + TimeSpan.FromSeconds(1);
        Events.AddRange(outage);
        // Recorded late and out of order, as a spool catching up would deliver them: the second half first.
        await Store.RecordAsync(outage.Skip(outage.Count / 2));
        await Live.CatchUpAsync(timeout.Token);
        await Store.RecordAsync(outage.Take(outage.Count / 2));
        await Live.CatchUpAsync(timeout.Token);
        LiveJson = (await Live.ReadLiveAsync(timeout.Token))!.Value.View.ToJson();
    }

    private async Task RecordNewAsync()
    {
        var fresh = _bus!.Events.Where(e => (e.NodeId == A || e.NodeId == B) && !Events.Any(k => k.EventId == e.EventId)).ToList();
        Events.AddRange(fresh);
        await Store.RecordAsync(fresh);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Live.CatchUpAsync(timeout.Token);
    }

    private List<LvsEvent> OutageEvents(DateTimeOffset t)
    {
        T Stamp<T>(T e, double seconds, string service, Guid? causation = null) where T : LvsEvent
        {
            var at = t + TimeSpan.FromSeconds(seconds);
            var id = Guid.CreateVersion7(at);
            return e with { EventId = id, OccurredAt = at, NodeId = B, Service = service, CorrelationId = causation ?? id, CausationId = causation };
        }

        ProbeCompleted Probe(double s, bool ok, RealServerRef rs) => Stamp(new ProbeCompleted
        {
            RealServer = rs, Checker = $"TCP_CHECK {rs.Address}:80", Success = ok, Latency = TimeSpan.FromMilliseconds(ok ? 1 : 3000),
            Error = ok ? ProbeErrorClass.None : ProbeErrorClass.Timeout,
        }, s, "health");

        var events = new List<LvsEvent>
        {
            Stamp(new RealServerHealthChanged { RealServer = Server, From = HealthState.Unknown, To = HealthState.Up, Checker = "TCP_CHECK" }, 0.1, "health"),
            Stamp(new RealServerHealthChanged { RealServer = Healthy, From = HealthState.Unknown, To = HealthState.Up, Checker = "TCP_CHECK" }, 0.1, "health"),
            Stamp(new RealServerWeightChanged { RealServer = Server, OldWeight = 0, NewWeight = 3, Cause = WeightChangeCause.Config }, 0.2, "health"),
            Stamp(new RealServerWeightChanged { RealServer = Healthy, OldWeight = 0, NewWeight = 3, Cause = WeightChangeCause.Config }, 0.2, "health"),
            Stamp(new KernelRuleApplied { Backend = "ipvs", Operation = KernelOperation.AddDestination, VirtualService = Server.VirtualService, RealServer = Server, After = "-a -t 10.77.0.100:80 -r 10.77.0.21:80 -m -w 3" }, 0.3, "ipvs-writer"),
            Stamp(new KernelRuleApplied { Backend = "ipvs", Operation = KernelOperation.AddDestination, VirtualService = Server.VirtualService, RealServer = Healthy, After = "-a -t 10.77.0.100:80 -r 10.77.0.22:80 -m -w 3" }, 0.3, "ipvs-writer"),
            Probe(0.5, true, Server),
            Probe(0.5, true, Healthy),
        };
        var failing = new[] { Probe(1.5, false, Server), Probe(2.5, false, Server), Probe(3.5, false, Server) };
        events.AddRange(failing);
        var down = Stamp(new RealServerHealthChanged
        {
            RealServer = Server, From = HealthState.Up, To = HealthState.Down, Checker = "TCP_CHECK", CausingProbes = failing.Select(p => p.EventId).ToList(), Reason = "3 failed probes (retry 2)",
        }, 3.5005, "health");
        events.Add(down);
        var zero = Stamp(new RealServerWeightChanged { RealServer = Server, OldWeight = 3, NewWeight = 0, Cause = WeightChangeCause.Health, Detail = "down" }, 3.501, "health", down.EventId);
        events.Add(zero);
        events.Add(Stamp(new KernelRuleApplied { Backend = "ipvs", Operation = KernelOperation.EditDestination, VirtualService = Server.VirtualService, RealServer = Server, Before = "-a -t 10.77.0.100:80 -r 10.77.0.21:80 -m -w 3", After = "-a -t 10.77.0.100:80 -r 10.77.0.21:80 -m -w 0" }, 3.51, "ipvs-writer", zero.EventId));
        events.Add(Stamp(new AlertRaised { AlertKey = $"real-server-down:{Server}", Rule = "real-server-down", Severity = AlertSeverity.Warning, Subject = Server.ToString(), Message = "down for 3 probes" }, 3.6, "monitor", down.EventId));
        var drain = Stamp(new DrainCommand { RealServer = Healthy, Timeout = TimeSpan.FromSeconds(30), RequestedBy = "alice", Reason = "maintenance" }, 4.0, "lvsctl");
        events.Add(drain);
        events.Add(Stamp(new RealServerWeightChanged { RealServer = Healthy, OldWeight = 3, NewWeight = 0, Cause = WeightChangeCause.Operator, Detail = "drain" }, 4.01, "health", drain.EventId));
        events.Add(Stamp(new ConfigurationApplied
        {
            File = "/etc/keepalived/keepalived.conf", Hash = "ab12cd34ef56ab12cd34ef56",
            Changes = [new ConfigurationChange("vrrp_instance", Instance, ChangeKind.Changed, [new FieldChange("auth_pass", "***", "***"), new FieldChange("advert_int", "1", "2")])],
        }, 4.5, "vrrp"));
        var restore = Stamp(new RestoreCommand { RealServer = Healthy, RequestedBy = "alice", Reason = "done" }, 5.0, "lvsctl");
        events.Add(restore);
        events.Add(Stamp(new RealServerWeightChanged { RealServer = Healthy, OldWeight = 0, NewWeight = 3, Cause = WeightChangeCause.Operator, Detail = "restore" }, 5.01, "health", restore.EventId));
        events.Add(Stamp(new KernelDriftCorrected { Backend = "ipvs", Differences = ["-a -t 10.77.0.100:80 -r 10.77.0.99:80 -m -w 1: not in configuration"] }, 5.5, "ipvs-writer"));
        events.AddRange([Probe(6.5, true, Server), Probe(7.5, true, Server)]);
        var up = Stamp(new RealServerHealthChanged { RealServer = Server, From = HealthState.Down, To = HealthState.Up, Checker = "TCP_CHECK", Reason = "2 good probes" }, 7.5005, "health");
        events.Add(up);
        var back = Stamp(new RealServerWeightChanged { RealServer = Server, OldWeight = 0, NewWeight = 3, Cause = WeightChangeCause.Recovery, Detail = "slow start done" }, 8.0, "recovery", up.EventId);
        events.Add(back);
        events.Add(Stamp(new KernelRuleApplied { Backend = "ipvs", Operation = KernelOperation.EditDestination, VirtualService = Server.VirtualService, RealServer = Server, Before = "-a -t 10.77.0.100:80 -r 10.77.0.21:80 -m -w 0", After = "-a -t 10.77.0.100:80 -r 10.77.0.21:80 -m -w 3" }, 8.01, "ipvs-writer", back.EventId));
        events.Add(Stamp(new AlertResolved { AlertKey = $"real-server-down:{Server}", Rule = "real-server-down", Subject = Server.ToString(), Duration = TimeSpan.FromSeconds(4.4) }, 8.1, "monitor", up.EventId));
        return events;
    }

    private bool _disposed;

    public async Task DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var node in _nodes)
        {
            try
            {
                await node.DisposeAsync();
            }
            catch (Exception)
            {
                // The namespace sweep kills whatever survived.
            }
        }

        _network?.Dispose();
        if (_bus is not null)
        {
            await _bus.DisposeAsync();
        }

        if (Store is not null)
        {
            await Store.DisposeAsync();
        }
    }
}
