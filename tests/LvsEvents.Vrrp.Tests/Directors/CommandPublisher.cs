using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.TestInfrastructure;
using MassTransit;

namespace LvsEvents.Vrrp.Tests.Directors;

/// <summary>Publishes events on the real bus as a service's spool publisher would: one EventBatch each, with publisher confirms.</summary>
public static class CommandPublisher
{
    public static async Task PublishAsync(LvsEvent e)
    {
        var broker = RabbitMqEndpoint.Parse(await TestServers.RabbitMqAsync());
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, host =>
        {
            host.Username(broker.Username);
            host.Password(broker.Password);
            host.PublisherConfirmation = true;
        }));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await bus.StartAsync(timeout.Token);
        try
        {
            await bus.PublishWithCommandsAsync(EventBatch.Of(e.NodeId, e.Service, 0, [e]), timeout.Token);
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }
}
