using LvsEvents.Contracts;
using MassTransit;

namespace LvsEvents.Recovery.Service;

/// <summary>Takes this node's health and VRRP events from the bus, on the durable queue <c>lvs-recovery-NODE</c>.</summary>
public sealed class RecoveryEventConsumer(RecoveryEngine engine) : IConsumer<EventBatch>
{
    public const string QueuePrefix = "lvs-recovery-";

    public async Task Consume(ConsumeContext<EventBatch> context)
    {
        if (context.Message.NodeId != engine.NodeId || context.Message.Service is not ("health" or "vrrp"))
        {
            return;
        }

        foreach (var e in context.Message.Read())
        {
            if (engine.Relevant(e))
            {
                await engine.HandleAsync(e, context.CancellationToken).ConfigureAwait(false);
            }
        }
    }
}
