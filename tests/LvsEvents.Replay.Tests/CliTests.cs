using LvsEvents.Contracts;
using LvsEvents.Lvsctl;

namespace LvsEvents.Replay.Tests;

/// <summary>lvsctl state / replay / postmortem against the scenario's schema.</summary>
[Collection(FailoverCollection.Name)]
public sealed class CliTests(FailoverScenario scenario)
{
    private Task<(int Exit, string Output, string Error)> Run(params string[] arguments) => Task.Run(() =>
    {
        Environment.SetEnvironmentVariable("ConnectionStrings__eventstore", scenario.Store.ConnectionString);
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = Program.Run([.. arguments, "--schema", scenario.Store.Schema], output, error);
        return (exit, output.ToString(), error.ToString());
    });

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture);

    [Fact(Timeout = 60_000)]
    public async Task State_at_prints_the_owner_as_a_table_and_the_view_as_json()
    {
        var (exit, table, error) = await Run("state", "--at", Iso(scenario.BeforeKill));
        Assert.True(exit == 0, error);
        var line = table.Split('\n').Single(l => l.Contains(scenario.A, StringComparison.Ordinal) && l.StartsWith(scenario.Instance, StringComparison.Ordinal));
        Assert.Contains("Master", line, StringComparison.Ordinal);

        (exit, var json, error) = await Run("state", "--at", Iso(scenario.End), "--json");
        Assert.True(exit == 0, error);
        var view = ClusterView.FromJson(json);
        Assert.Equal([scenario.B], view.Instances[scenario.Instance].Owners);
        Assert.Equal(ReplayStore.Fold(scenario.Events, scenario.End).ToJson(), view.ToJson());
    }

    [Fact(Timeout = 60_000)]
    public async Task Replay_is_ordered_and_filtered_by_type_node_and_stream()
    {
        var from = scenario.Events.Min(e => e.OccurredAt);
        var (exit, output, error) = await Run("replay", "--from", Iso(from), "--to", Iso(scenario.End), "--type", "vrrp.*", "--node", scenario.B);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = scenario.Events.Where(e => e.NodeId == scenario.B && e.EventType.StartsWith("vrrp.", StringComparison.Ordinal)).OrderBy(e => e.OccurredAt).ToList();
        Assert.Equal(expected.Count, lines.Length);
        Assert.Equal(expected.Select(e => e.EventType), lines.Select(l => l.Split("  ")[2]));
        Assert.Equal(lines.Select(l => l[..24]).Order(StringComparer.Ordinal), lines.Select(l => l[..24]));

        (exit, output, error) = await Run("replay", "--from", Iso(from), "--to", Iso(scenario.End), "--rs", FailoverScenario.Server.ToString(), "--type", EventTypes.ProbeCompleted);
        Assert.True(exit == 0, error);
        Assert.Equal(scenario.Events.OfType<ProbeCompleted>().Count(p => p.RealServer == FailoverScenario.Server), output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        (exit, output, error) = await Run("replay", "--from", Iso(from), "--instance", scenario.Instance, "--node", scenario.A);
        Assert.True(exit == 0, error);
        Assert.Equal(scenario.Events.Count(e => e.NodeId == scenario.A && e.StreamKey.StartsWith("vrrp:", StringComparison.Ordinal)), output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        Assert.Equal(2, (await Run("replay", "--from", "yesterday-ish")).Exit);
    }

    [Fact(Timeout = 60_000)]
    public async Task Status_prints_the_stores_view_and_what_the_bus_carries_while_it_listens()
    {
        Environment.SetEnvironmentVariable("ConnectionStrings__rabbitmq", await TestInfrastructure.TestServers.RabbitMqAsync());
        var node = "status-" + Guid.NewGuid().ToString("N")[..8];
        var service = VirtualServiceRef.Tcp("10.77.0.100", 80);
        var statistics = new KernelStatisticsReported
        {
            Backend = "nftables", Interval = TimeSpan.FromSeconds(5), TotalActiveConnections = 4321,
            Services = [new VirtualServiceTraffic(service, 3, 4321, 12, 99_000, 250.5, null, null, null, null)],
            EventId = Guid.CreateVersion7(), OccurredAt = DateTimeOffset.UtcNow, NodeId = node, Service = "lvs-ipvs-writer",
        };
        var probe = new ProbeCompleted
        {
            RealServer = FailoverScenario.Server, Checker = "TCP_CHECK", Success = false, Latency = TimeSpan.FromMilliseconds(3000), Error = ProbeErrorClass.Timeout,
            EventId = Guid.CreateVersion7(), OccurredAt = DateTimeOffset.UtcNow, NodeId = node, Service = "lvs-health",
        };

        var running = Run("status", "--listen", "4s");
        // Published while lvsctl listens: it binds its queue first thing, well within the first second.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await PublishAsync(EventBatch.Of(node, "test", 0, [statistics, probe]));
        var (exit, output, error) = await running;
        Assert.True(exit == 0, error);

        // The store's part: the scenario's failover left B the owner.
        var owner = output.Split('\n').First(l => l.StartsWith(scenario.Instance, StringComparison.Ordinal));
        Assert.Contains(scenario.B, owner, StringComparison.Ordinal);
        Assert.Contains("FROM THE EVENT STORE", output, StringComparison.Ordinal);
        // The bus's part: what was published during the listen.
        Assert.Contains($"kernel on {node} (nftables): 4321 active connections", output, StringComparison.Ordinal);
        Assert.Contains("conn/s    250.5", output, StringComparison.Ordinal);
        Assert.Matches($@"{node}\s+{System.Text.RegularExpressions.Regex.Escape(FailoverScenario.Server.ToString())}\s+0/1", output);

        // Without a bus: the store's part still prints, and says why the bus part is missing.
        Environment.SetEnvironmentVariable("ConnectionStrings__rabbitmq", "amqp://guest:guest@127.0.0.1:1/");
        (exit, output, error) = await Run("status", "--listen", "1s");
        Assert.True(exit == 0, error);
        Assert.Contains("FROM THE EVENT STORE", output, StringComparison.Ordinal);
        Assert.Contains("LIVE FROM THE BUS: ", output, StringComparison.Ordinal);
        Assert.Equal(2, (await Run("status", "--listen", "soon")).Exit);
    }

    private static async Task PublishAsync(EventBatch batch)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(await TestInfrastructure.TestServers.RabbitMqAsync()) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        // MassTransit's envelope: the batch under "message" (the listener reads nothing else).
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { message = batch }, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        await channel.BasicPublishAsync(Lvsctl.Bus.BusListener.Exchange, "", mandatory: false, new RabbitMQ.Client.BasicProperties(), body);
    }

    [Fact(Timeout = 90_000)]
    public async Task Postmortem_prints_the_report_and_writes_the_html()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("replay-cli-").FullName, "report.html");
        var (exit, output, error) = await Run("postmortem", "--from", Iso(scenario.BeforeKill), "--to", Iso(scenario.End), "--html", file);
        Assert.True(exit == 0, error);
        Assert.Contains("FAILOVERS (1;", output, StringComparison.Ordinal);
        Assert.Contains("REAL-SERVER OUTAGES (1)", output, StringComparison.Ordinal);
        Assert.Contains($"{scenario.A} -> {scenario.B}", output, StringComparison.Ordinal);
        Assert.Contains("<svg", File.ReadAllText(file), StringComparison.Ordinal);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }
}
