using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace LvsEvents.TestInfrastructure;

/// <summary>
/// The real servers the tests talk to. The endpoints come from the same configuration names the services
/// use (ConnectionStrings__rabbitmq, __eventstore, __influxdb), which ./test.sh sets after starting the
/// servers on 127.0.0.1. Where they are not set and a Docker engine answers, Testcontainers starts them;
/// otherwise the test fails with one sentence that says what to do.
/// </summary>
public static class TestServers
{
    public const string RabbitMqVariable = "ConnectionStrings__rabbitmq";
    public const string EventStoreVariable = "ConnectionStrings__eventstore";
    public const string InfluxDbVariable = "ConnectionStrings__influxdb";

    private static readonly Lazy<Task<string>> RabbitMq = new(() => Resolve(RabbitMqVariable, StartRabbitMqContainer));
    private static readonly Lazy<Task<string>> EventStore = new(() => Resolve(EventStoreVariable, StartPostgreSqlContainer));
    private static readonly Lazy<Task<string>> InfluxDb = new(() => Resolve(InfluxDbVariable, StartInfluxDbContainer));

    /// <summary>AMQP URI of a RabbitMQ server with a vhost of our own.</summary>
    public static Task<string> RabbitMqAsync() => RabbitMq.Value;

    /// <summary>Npgsql connection string of a PostgreSQL database of our own.</summary>
    public static Task<string> EventStoreAsync() => EventStore.Value;

    /// <summary>The product's InfluxDB connection string (Url=...;Database=...;Username=...;Password=...).</summary>
    public static Task<string> InfluxDbAsync() => InfluxDb.Value;

    private static async Task<string> Resolve(string variable, Func<Task<string>> startContainer)
    {
        var configured = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        if (await DockerEngine.AnswersAsync())
        {
            return await startContainer();
        }

        throw new TestServersUnavailableException(
            $"{variable} is not set and no Docker engine answers: run ./test.sh, which installs and starts RabbitMQ, PostgreSQL and InfluxDB on 127.0.0.1 and sets it.");
    }

    private static async Task<string> StartRabbitMqContainer()
    {
        var container = new RabbitMqBuilder("rabbitmq:3-management").Build();
        await StartAndKeep(container);
        return container.GetConnectionString();
    }

    private static async Task<string> StartPostgreSqlContainer()
    {
        var container = new PostgreSqlBuilder("postgres:15").Build();
        await StartAndKeep(container);
        return container.GetConnectionString();
    }

    private static async Task<string> StartInfluxDbContainer()
    {
        const string password = "lvsevents-test";
        var container = new ContainerBuilder("influxdb:1.8")
            .WithEnvironment("INFLUXDB_HTTP_AUTH_ENABLED", "true")
            .WithEnvironment("INFLUXDB_DB", "lvsevents")
            .WithEnvironment("INFLUXDB_ADMIN_USER", "lvsevents")
            .WithEnvironment("INFLUXDB_ADMIN_PASSWORD", password)
            .WithPortBinding(8086, true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPath("/ping").ForPort(8086).ForStatusCode(System.Net.HttpStatusCode.NoContent)))
            .Build();
        await StartAndKeep(container);
        return $"Url=http://{container.Hostname}:{container.GetMappedPublicPort(8086)};Database=lvsevents;Username=lvsevents;Password={password}";
    }

    // The containers live as long as the test process; Testcontainers' resource reaper removes them after.
    private static Task StartAndKeep(IContainer container) => container.StartAsync();
}
