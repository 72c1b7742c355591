using LvsEvents.Contracts;

namespace LvsEvents.TestInfrastructure;

/// <summary>One filled-in instance of every event type, for round-trip tests and load generation.</summary>
public static class SampleEvents
{
    public static readonly VirtualServiceRef Service = VirtualServiceRef.Tcp("192.168.1.100", 80);
    public static readonly RealServerRef Web1 = new(Service, "192.168.1.20", 80);

    public static IReadOnlyList<LvsEvent> OneOfEach(string nodeId = "lvs-master", DateTimeOffset? at = null)
    {
        var now = at ?? new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
        var events = new LvsEvent[]
        {
            new ServiceStarted { Version = "1.0.0", ConfigurationFile = "/etc/keepalived/keepalived.conf", ProcessId = 42 },
            new ServiceStopping { Reason = "SIGTERM" },
            new ServiceHeartbeat { SpoolDepth = 12, Uptime = TimeSpan.FromMinutes(90) },
            new VrrpStateChanged
            {
                Instance = "VI_1", VirtualRouterId = 51, From = VrrpState.Backup, To = VrrpState.Master,
                Reason = VrrpTransitionReason.MasterDownTimerExpired, Priority = 90, EffectivePriority = 90,
                Evidence = new VrrpEvidence("192.168.1.10", 100, now.AddSeconds(-3.6), 3, TimeSpan.FromSeconds(3.61)),
            },
            new VrrpPriorityChanged { Instance = "VI_1", VirtualRouterId = 51, OldPriority = 100, NewPriority = 80, Cause = "vrrp_script chk_nginx failed (weight -20)" },
            new VipAcquired { Instance = "VI_1", VirtualRouterId = 51, Address = "192.168.1.100/24", Interface = "eth0", Label = "eth0:1" },
            new VipReleased { Instance = "VI_1", VirtualRouterId = 51, Address = "192.168.1.100/24", Interface = "eth0", Reason = "higher priority advert seen" },
            new GratuitousArpSent { Instance = "VI_1", Addresses = ["192.168.1.100"], Interface = "eth0", Count = 5, Reason = "split brain healed" },
            new SplitBrainSuspected { Instance = "VI_1", VirtualRouterId = 51, PeerAddress = "192.168.1.11", PeerPriority = 90, LocalPriority = 100, IntervalsObserved = 3 },
            new ProbeCompleted { RealServer = Web1, Checker = "HTTP_GET 192.168.1.20:80/health", Success = false, Latency = TimeSpan.FromMilliseconds(3.25), Error = ProbeErrorClass.BadStatus, Detail = "status 503" },
            new RealServerHealthChanged { RealServer = Web1, From = HealthState.Up, To = HealthState.Down, Checker = "TCP_CHECK", CausingProbes = [Guid.CreateVersion7(now)], Reason = "connection refused 4 times" },
            new VirtualServiceQuorumChanged { VirtualService = Service, Up = false, LiveWeight = 1, Quorum = 2, Hysteresis = 0, SorryServerActive = true },
            new HealthCheckerStalled { Checker = "HTTP_GET", RealServer = Web1, SilentFor = TimeSpan.FromSeconds(30), Expected = TimeSpan.FromSeconds(6) },
            new VirtualServiceHealthSnapshot { VirtualService = Service, SnapshotId = Guid.CreateVersion7(now), VirtualServiceCount = 1, QuorumUp = true, LiveWeight = 3, Quorum = 1, Hysteresis = 0, RealServers = [new RealServerHealthEntry("192.168.1.20:80", HealthState.Up, 3, 0)] },
            new RealServerWeightChanged { RealServer = Web1, OldWeight = 3, NewWeight = 0, Cause = WeightChangeCause.Health, Detail = "inhibit_on_failure" },
            new KernelRuleApplied { Backend = "nftables", Operation = KernelOperation.EditDestination, VirtualService = Service, RealServer = Web1, Before = "-a -t 192.168.1.100:80 -r 192.168.1.20:80 -g -w 3", After = "-a -t 192.168.1.100:80 -r 192.168.1.20:80 -g -w 0" },
            new KernelDriftCorrected { Backend = "ipvs", Differences = ["-a -t 192.168.1.100:80 -r 192.168.1.99:80 -g -w 1: not in configuration"] },
            new KernelStatisticsReported { Backend = "nftables", Interval = TimeSpan.FromSeconds(5), TotalActiveConnections = 1200, Services = [new VirtualServiceTraffic(Service, 3, 1200, 340, 98_000, 410.5, 3900.2, 3100.8, 420_000, 2_900_000)] },
            new ConfigurationApplied
            {
                File = "/etc/keepalived/keepalived.conf", Hash = "9f2c",
                Changes = [new ConfigurationChange("vrrp_instance", "VI_1", ChangeKind.Changed, [new FieldChange("auth_pass", "***", "***"), new FieldChange("priority", "100", "110")])],
            },
            new ConfigurationRejected { File = "/etc/keepalived/keepalived.conf", Errors = ["keepalived.conf:12:5: virtual_router_id 300 is out of range 1..255"] },
            new AlertRaised { AlertKey = "weight-zero:" + Web1, Rule = "weight-zero", Severity = AlertSeverity.Warning, Subject = Web1.ToString(), Message = "weight is 0" },
            new AlertResolved { AlertKey = "weight-zero:" + Web1, Rule = "weight-zero", Subject = Web1.ToString(), Duration = TimeSpan.FromMinutes(3) },
            new SetWeightCommand { RealServer = Web1, Weight = 1, Cause = WeightChangeCause.Operator, RequestedBy = "ops", Reason = "gray release 10%" },
            new DrainCommand { RealServer = Web1, Timeout = TimeSpan.FromMinutes(5), RequestedBy = "recovery" },
            new RestoreCommand { RealServer = Web1, RequestedBy = "ops" },
            new RecoveryDecision { Policy = "flap-hold", Action = RecoveryAction.HeldOut, Subject = Web1.ToString(), RealServer = Web1, Reason = "4 transitions in 00:05:00", CausingEvents = [Guid.CreateVersion7(now)], Weight = 0, Alert = AlertSeverity.Warning },
            new VrrpResignCommand { TargetNode = "lvs-backup", Instance = "VI_1", VirtualRouterId = 51, Mode = VrrpResignMode.PriorityDrop, Priority = 1, RequestedBy = "recovery", Reason = "split brain: lower priority" },
            new CanaryStartCommand { Server = Web1, Steps = [10, 30, 50, 100], Interval = TimeSpan.FromMinutes(5), MaxErrorRate = 0.05, RemoveOld = true, RequestedBy = "ops" },
            new CanaryControlCommand { VirtualService = Service, Action = CanaryControl.Pause, RequestedBy = "ops" },
            new CanaryStatus { VirtualService = Service, Server = Web1, State = CanaryState.Running, Steps = [10, 30, 50, 100], Step = 1, Share = 0.3, Weights = [new CanaryWeight(Web1, 3)], Probes = 10, FailedProbes = 0, ErrorRate = 0, MaxErrorRate = 0.05, NextStepAt = now.AddMinutes(5) },
            new DrillCommand { Drill = DrillKind.BackendOutage, Duration = TimeSpan.FromSeconds(10), RealServer = Web1, RequestedBy = "ops", Reason = "quarterly drill" },
            new DrillStep { DrillId = Guid.CreateVersion7(now), Drill = DrillKind.MasterFailure, Step = DrillStepKind.Injected, Instance = "VI_1", Detail = "adverts and VIPs stopped for 10 s" },
        };

        return events.Select((e, i) => e with
        {
            EventId = Guid.CreateVersion7(now.AddMilliseconds(i)),
            OccurredAt = now.AddMilliseconds(i),
            NodeId = nodeId,
            Service = "test",
            CorrelationId = Guid.CreateVersion7(now),
        }).ToList();
    }
}
