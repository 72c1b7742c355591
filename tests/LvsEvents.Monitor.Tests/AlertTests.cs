using System.Net;
using System.Net.Sockets;
using System.Text;
using LvsEvents.Contracts;
using LvsEvents.Monitor.Alerts;
using LvsEvents.TestInfrastructure;

namespace LvsEvents.Monitor.Tests;

/// <summary>Alert rules (pure, fed events and time) and the sinks against real sockets on loopback.</summary>
public sealed class AlertTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
    private static readonly RealServerRef Web1 = SampleEvents.Web1;
    private static readonly RealServerRef Web2 = new(SampleEvents.Service, "192.168.1.21", 80);

    private static AlertBook Book() => new([
        new RealServerWeightZeroRule(), new AllRealServersDownRule(), new FailoverRule(TimeSpan.FromMinutes(5)), new SplitBrainRule(), new CheckerStalledRule(),
        new SpoolBacklogRule(1000), new RecoveryDecisionRule(), new ActiveConnectionsRule(10_000),
    ]);

    private static T At<T>(T e, double seconds) where T : LvsEvent
        => e with { EventId = Guid.CreateVersion7(), OccurredAt = T0.AddSeconds(seconds), NodeId = "director-1" };

    private static RealServerWeightChanged Weight(RealServerRef rs, int from, int to)
        => new() { RealServer = rs, OldWeight = from, NewWeight = to, Cause = WeightChangeCause.Health };

    [Fact]
    public void Weight_zero_fires_once_per_episode_and_resolves_with_its_duration()
    {
        var book = Book();
        var down = At(Weight(Web1, 3, 0), 0);
        var raised = Assert.IsType<AlertRaised>(Assert.Single(book.Observe(down, T0)));
        Assert.Equal("real-server-weight-zero", raised.Rule);
        Assert.Equal(down.EventId, raised.CorrelationId);
        // Still zero (e.g. an operator confirms it): no second alert in the same episode.
        Assert.Empty(book.Observe(At(Weight(Web1, 0, 0), 10), T0.AddSeconds(10)));
        var resolved = Assert.IsType<AlertResolved>(Assert.Single(book.Observe(At(Weight(Web1, 0, 3), 90), T0.AddSeconds(90))));
        Assert.Equal(raised.AlertKey, resolved.AlertKey);
        Assert.Equal(TimeSpan.FromSeconds(90), resolved.Duration);
        // A clear with nothing firing is nothing; a new episode fires again.
        Assert.Empty(book.Observe(At(Weight(Web1, 3, 2), 100), T0.AddSeconds(100)));
        Assert.IsType<AlertRaised>(Assert.Single(book.Observe(At(Weight(Web1, 2, 0), 200), T0.AddSeconds(200))));
    }

    [Fact]
    public void All_real_servers_down_fires_only_when_the_last_one_goes()
    {
        var book = Book();
        RealServerHealthChanged Health(RealServerRef rs, HealthState to) => new() { RealServer = rs, From = HealthState.Up, To = to, Checker = "TCP_CHECK" };
        Assert.Empty(book.Observe(At(Health(Web1, HealthState.Up), 0), T0));
        Assert.Empty(book.Observe(At(Health(Web2, HealthState.Up), 0), T0));
        Assert.Empty(book.Observe(At(Health(Web1, HealthState.Down), 1), T0));
        var raised = Assert.IsType<AlertRaised>(Assert.Single(book.Observe(At(Health(Web2, HealthState.Down), 2), T0)));
        Assert.Equal(AlertSeverity.Critical, raised.Severity);
        Assert.Contains("all 2 real servers", raised.Message);
        Assert.IsType<AlertResolved>(Assert.Single(book.Observe(At(Health(Web1, HealthState.Up), 3), T0)));
    }

    [Fact]
    public void A_failover_fires_and_resolves_once_the_new_master_held()
    {
        var book = Book();
        var failover = At(new VrrpStateChanged
        {
            Instance = "VI_1", VirtualRouterId = 51, From = VrrpState.Backup, To = VrrpState.Master, Reason = VrrpTransitionReason.MasterDownTimerExpired,
            Priority = 90, Evidence = new VrrpEvidence("10.77.0.1", 100, T0, 3, TimeSpan.FromSeconds(3.6)),
        }, 0);
        var raised = Assert.IsType<AlertRaised>(Assert.Single(book.Observe(failover, T0)));
        Assert.Contains("last advert from 10.77.0.1 at priority 100", raised.Message);
        Assert.Empty(book.Tick(T0.AddMinutes(4)));
        Assert.IsType<AlertResolved>(Assert.Single(book.Tick(T0.AddMinutes(5))));
        // A startup is not a failover.
        Assert.Empty(book.Observe(failover with { Reason = VrrpTransitionReason.Startup, EventId = Guid.CreateVersion7() }, T0.AddMinutes(6)));
    }

    [Fact]
    public void Split_brain_clears_when_the_master_re_announces_after_healing_and_alert_events_are_not_news()
    {
        var book = Book();
        var suspected = At(new SplitBrainSuspected { Instance = "VI_1", VirtualRouterId = 51, PeerAddress = "10.77.0.2", PeerPriority = 90, LocalPriority = 100, IntervalsObserved = 4 }, 0);
        var raised = Assert.IsType<AlertRaised>(Assert.Single(book.Observe(suspected, T0)));
        Assert.Empty(book.Observe(raised, T0));
        var healed = At(new GratuitousArpSent { Instance = "VI_1", Addresses = ["10.77.0.100"], Interface = "eth0", Count = 5, Reason = "split brain healed: the other master went quiet; re-announcing" }, 20);
        Assert.IsType<AlertResolved>(Assert.Single(book.Observe(healed, T0.AddSeconds(20))));
        Assert.Empty(book.Firing);
    }

    [Fact]
    public void A_growing_spool_fires_once_and_clears_when_drained()
    {
        var book = Book();
        ServiceHeartbeat Beat(long depth, double seconds) => At(new ServiceHeartbeat { SpoolDepth = depth, Uptime = TimeSpan.FromMinutes(1) }, seconds) with { Service = "health" };
        Assert.Empty(book.Observe(Beat(5, 0), T0));
        // Above the threshold but not growing (a steady backlog being worked off) is no alert.
        Assert.Empty(book.Observe(Beat(2000, 30) with { NodeId = "director-2" }, T0));
        var raised = Assert.IsType<AlertRaised>(Assert.Single(book.Observe(Beat(1500, 30), T0.AddSeconds(30))));
        Assert.Contains("1500 events waiting for the bus (was 5)", raised.Message);
        Assert.Empty(book.Observe(Beat(3000, 60), T0.AddSeconds(60)));
        Assert.IsType<AlertResolved>(Assert.Single(book.Observe(Beat(10, 90), T0.AddSeconds(90))));
    }

    [Fact]
    public void Active_connections_above_the_threshold_fire_once_per_episode_and_resolve_under_it()
    {
        var book = Book();
        KernelStatisticsReported Poll(long? active, double seconds, string node = "director-1") => At(new KernelStatisticsReported
        {
            Backend = "nftables", Interval = TimeSpan.FromSeconds(5), TotalActiveConnections = active,
            Services = [new VirtualServiceTraffic(SampleEvents.Service, 3, active, 10, 50_000, 120, null, null, null, null)],
        }, seconds) with { NodeId = node };
        Assert.Empty(book.Observe(Poll(9_000, 0), T0));
        // Not counted (no backend statistics) is not zero: nothing happens.
        Assert.Empty(book.Observe(Poll(null, 5), T0.AddSeconds(5)));
        var raised = Assert.IsType<AlertRaised>(Assert.Single(book.Observe(Poll(12_345, 10), T0.AddSeconds(10))));
        Assert.Equal("active-connections-high", raised.Rule);
        Assert.Equal("director-1", raised.Subject);
        Assert.Contains("12345 active connections (threshold 10000); busiest TCP/192.168.1.100:80", raised.Message);
        // Still above, and hovering just under the line: the same episode.
        Assert.Empty(book.Observe(Poll(15_000, 15), T0.AddSeconds(15)));
        Assert.Empty(book.Observe(Poll(9_500, 20), T0.AddSeconds(20)));
        // The other director is its own subject.
        Assert.IsType<AlertRaised>(Assert.Single(book.Observe(Poll(10_001, 20, "director-2"), T0.AddSeconds(20))));
        var resolved = Assert.IsType<AlertResolved>(Assert.Single(book.Observe(Poll(8_000, 25), T0.AddSeconds(25))));
        Assert.Equal(raised.AlertKey, resolved.AlertKey);
        Assert.Equal(TimeSpan.FromSeconds(15), resolved.Duration);
        Assert.Empty(book.Observe(Poll(8_000, 30), T0.AddSeconds(30)));
        Assert.IsType<AlertRaised>(Assert.Single(book.Observe(Poll(11_000, 35), T0.AddSeconds(35))));
    }

    [Fact]
    public void A_server_held_out_by_recovery_alerts_until_it_is_released()
    {
        var book = Book();
        RecoveryDecision Decision(RecoveryAction action, AlertSeverity? alert) => new()
        {
            Policy = "flap-hold", Action = action, Subject = Web1.ToString(), RealServer = Web1, Reason = "5 transitions in 2 min", Alert = alert,
        };
        var raised = Assert.IsType<AlertRaised>(Assert.Single(book.Observe(At(Decision(RecoveryAction.HeldOut, AlertSeverity.Warning), 0), T0)));
        Assert.Equal("recovery-decision", raised.Rule);
        Assert.Empty(book.Observe(At(Decision(RecoveryAction.RampStep, null), 10), T0));
        Assert.IsType<AlertResolved>(Assert.Single(book.Observe(At(Decision(RecoveryAction.Released, null), 60), T0.AddSeconds(60))));
    }

    [Fact(Timeout = 30_000)]
    public async Task The_webhook_gets_the_alert_as_json()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            context.Response.StatusCode = 204;
            context.Response.Close();
            return (context.Request.HttpMethod, context.Request.ContentType, body);
        });
        var alert = At(new AlertRaised { AlertKey = "vrrp-split-brain:d1/VI_1", Rule = "vrrp-split-brain", Severity = AlertSeverity.Critical, Subject = "d1/VI_1", Message = "both master" }, 0);
        await new WebhookAlertSink(new HttpClient(), new Uri($"http://127.0.0.1:{port}/hooks/lvs")).DeliverAsync(alert, CancellationToken.None);
        var (method, type, json) = await received;
        Assert.Equal("POST", method);
        Assert.StartsWith("application/json", type);
        var back = Assert.IsType<AlertRaised>(EventJson.Deserialize(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(alert.AlertKey, back.AlertKey);
        Assert.Equal(alert.EventId, back.EventId);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_mail_goes_through_an_smtp_conversation()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;
        var conversation = Task.Run(async () =>
        {
            using var client = await server.AcceptTcpClientAsync();
            await using var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
            var commands = new List<string>();
            var data = new StringBuilder();
            await writer.WriteLineAsync("220 test ESMTP");
            while (await reader.ReadLineAsync() is { } line)
            {
                commands.Add(line);
                if (line.StartsWith("EHLO", StringComparison.Ordinal)) { await writer.WriteLineAsync("250-test"); await writer.WriteLineAsync("250 SIZE 1000000"); }
                else if (line == "DATA")
                {
                    await writer.WriteLineAsync("354 go ahead");
                    while (await reader.ReadLineAsync() is { } body && body != ".")
                        data.AppendLine(body);
                    await writer.WriteLineAsync("250 queued");
                }
                else if (line == "QUIT") { await writer.WriteLineAsync("221 bye"); break; }
                else await writer.WriteLineAsync("250 ok");
            }
            return (commands, data.ToString());
        });
        var sink = new SmtpAlertSink(new SmtpOptions { Server = "127.0.0.1", Port = port, From = "lvs@lab", To = ["ops@lab", "oncall@lab"] });
        var alert = At(new AlertResolved { AlertKey = "real-server-weight-zero:x", Rule = "real-server-weight-zero", Subject = Web1.ToString(), Duration = TimeSpan.FromSeconds(90) }, 0);
        await sink.DeliverAsync(alert, CancellationToken.None);
        var (commands, mail) = await conversation;
        Assert.Equal(["EHLO lvsevents", "MAIL FROM:<lvs@lab>", "RCPT TO:<ops@lab>", "RCPT TO:<oncall@lab>", "DATA", "QUIT"], commands);
        Assert.Contains($"Subject: [LvsEvents] RESOLVED: real-server-weight-zero {Web1}", mail);
        Assert.Contains("resolved after 90 s", mail);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
