using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.EventStore;
using LvsEvents.Monitor;
using LvsEvents.Monitor.Recording;
using LvsEvents.TestInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LvsEvents.Configuration.Tests;

/// <summary>One real lvs-monitor host (RabbitMQ -> Marten) shared by the tests that read the event store.</summary>
public sealed class MonitorFixture : IAsyncLifetime
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _spool = Path.Combine(Path.GetTempPath(), "lvs-configuration-monitor-" + Guid.NewGuid().ToString("N"));
    private readonly DateTimeOffset _since = DateTimeOffset.UtcNow.AddMinutes(-1);
    private IHost? _host;

    public RecordedEvents Store => new(Host.Services.GetRequiredService<Marten.IDocumentStore>());

    private IHost Host => _host ?? throw new InvalidOperationException("the monitor host is not started");

    public async Task InitializeAsync()
    {
        _host = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = await TestServers.RabbitMqAsync(),
            ["ConnectionStrings:eventstore"] = await TestServers.EventStoreAsync(),
            ["ConnectionStrings:influxdb"] = await TestServers.InfluxDbAsync(),
            ["Eventing:NodeId"] = "configuration-tests-monitor",
            ["Eventing:SpoolDirectory"] = _spool,
            ["Eventing:MaxRetryDelay"] = "00:00:01",
        });
        await _host.StartAsync();
        await EventStoreSchema.EnsureAsync(_host.Services.GetRequiredService<Marten.IDocumentStore>(), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }

        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    /// <summary>Waits until the node stream of <paramref name="node"/> (where configuration events go) holds an event <paramref name="match"/> accepts.</summary>
    public async Task<RecordedEvent> WaitForAsync(string node, Func<RecordedEvent, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var events = await Store.ReadAsync(_since, DateTimeOffset.UtcNow.AddMinutes(1), StreamKeys.Node(node));
            var found = events.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                var seen = string.Join(", ", events.Select(r => r.Event.GetType().Name));
                throw new TimeoutException($"waited {Patience.TotalSeconds:F0} s for {what} of node {node}; its recorded events: [{seen}]");
            }

            await Task.Delay(200);
        }
    }
}

/// <summary>Tests that share the monitor host.</summary>
[CollectionDefinition(Name)]
public sealed class MonitorCollection : ICollectionFixture<MonitorFixture>
{
    public const string Name = "monitor";
}
