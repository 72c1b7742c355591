using System.Collections.Concurrent;
using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.TestInfrastructure.Network;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace LvsEvents.TestInfrastructure.Bus;

/// <summary>
/// Listens on the real bus for what the services publish: a private, exclusive queue bound to MassTransit's
/// EventBatch exchange; every event of every batch is decoded and kept for assertions.
/// </summary>
public sealed class BusTap : IAsyncDisposable
{
    public const string Exchange = "LvsEvents.Contracts:EventBatch";
    private static readonly JsonSerializerOptions Envelope = new(JsonSerializerDefaults.Web);

    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly ConcurrentQueue<LvsEvent> _events = new();

    private BusTap(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public IReadOnlyList<LvsEvent> Events => _events.ToArray();

    public static async Task<BusTap> StartAsync()
    {
        var factory = new ConnectionFactory { Uri = new Uri(await TestServers.RabbitMqAsync()) };
        var connection = await factory.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        var tap = new BusTap(connection, channel);
        // The same declaration MassTransit makes, so the tap works on a fresh broker too.
        await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        var queue = await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true);
        await channel.QueueBindAsync(queue.QueueName, Exchange, "");
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            using var document = JsonDocument.Parse(delivery.Body);
            var batch = document.RootElement.GetProperty("message").Deserialize<EventBatch>(Envelope)!;
            foreach (var e in batch.Read())
            {
                tap._events.Enqueue(e);
            }
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return tap;
    }

    public IReadOnlyList<T> Of<T>(string nodeId) where T : LvsEvent
        => Events.OfType<T>().Where(e => e.NodeId == nodeId).ToList();

    /// <summary>Waits until an event of type <typeparamref name="T"/> from <paramref name="nodeId"/> matches.</summary>
    public async Task<T> WaitForAsync<T>(string nodeId, Func<T, bool> match, TimeSpan timeout, string what) where T : LvsEvent
    {
        T? found = null;
        var took = await Poll.Until(() => (found = Of<T>(nodeId).FirstOrDefault(match)) is not null, timeout);
        if (took is null || found is null)
            throw new TimeoutException($"no {what} from {nodeId} within {timeout.TotalSeconds:0.#} s; events seen: {string.Join(", ", Events.Where(e => e.NodeId == nodeId).Select(Describe))}");
        return found;
    }

    public static string Describe(LvsEvent e) => e switch
    {
        VrrpStateChanged s => $"{s.EventType} {s.From}->{s.To} ({s.Reason})",
        VipAcquired v => $"{v.EventType} {v.Address}",
        VipReleased v => $"{v.EventType} {v.Address} ({v.Reason})",
        _ => e.EventType,
    };

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }
}
