using System.Collections.Concurrent;
using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace LvsEvents.Lvsctl.Bus;

/// <summary>
/// Listens to what the services publish right now, without taking anything from anyone: a private, exclusive,
/// auto-deleted queue bound to MassTransit's EventBatch fanout exchange; every event of every batch is decoded.
/// </summary>
public static class BusListener
{
    public const string Exchange = "LvsEvents.Contracts:EventBatch";
    private static readonly JsonSerializerOptions Envelope = new(JsonSerializerDefaults.Web);

    /// <summary>The events published during <paramref name="window"/>; the broker from <c>ConnectionStrings__rabbitmq</c>.</summary>
    public static async Task<IReadOnlyList<LvsEvent>> ListenAsync(string? connectionString, TimeSpan window, CancellationToken cancellationToken)
    {
        var broker = RabbitMqEndpoint.Parse(connectionString);
        var factory = new ConnectionFactory
        {
            HostName = broker.Host, Port = broker.Port, VirtualHost = broker.VirtualHost,
            UserName = broker.Username, Password = broker.Password,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
            ClientProvidedName = "lvsctl status",
        };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        // The declaration MassTransit makes, so listening works before any service has published.
        await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        var queue = await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueBindAsync(queue.QueueName, Exchange, "", cancellationToken: cancellationToken).ConfigureAwait(false);
        var events = new ConcurrentQueue<LvsEvent>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            try
            {
                using var document = JsonDocument.Parse(delivery.Body);
                if (document.RootElement.TryGetProperty("message", out var message) && message.Deserialize<EventBatch>(Envelope) is { } batch)
                {
                    foreach (var e in batch.Read())
                    {
                        events.Enqueue(e);
                    }
                }
            }
            catch (JsonException)
            {
                // Not an event batch we can read (another version): status shows what it can.
            }

            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer, cancellationToken).ConfigureAwait(false);
        await Task.Delay(window, cancellationToken).ConfigureAwait(false);
        return events.ToArray();
    }
}
