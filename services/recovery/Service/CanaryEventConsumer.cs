using LvsEvents.Contracts;
using MassTransit;

namespace LvsEvents.Recovery.Service;

/// <summary>
/// Canary commands (from lvsctl on any node), this node's health events and, while a canary runs, every director's
/// kernel statistics (from its ipvs-writer), on the durable queue
/// <c>lvs-recovery-canary-NODE</c>: a queue apart from self-healing's, so that a canary's watch is not behind a ramp.
/// </summary>
public sealed class CanaryEventConsumer(CanaryEngine engine) : IConsumer<EventBatch>
{
    public const string QueuePrefix = "lvs-recovery-canary-";

    public async Task Consume(ConsumeContext<EventBatch> context)
    {
        var batch = context.Message;
        var wanted = batch.Service == "lvsctl"
            || (batch.Service == "health" && batch.NodeId == engine.NodeId && engine.Watching)
            || (batch.Service == "ipvs-writer" && engine.Watching);
        if (!wanted)
        {
            return;
        }

        foreach (var e in batch.Read())
        {
            if (engine.Relevant(e))
            {
                await engine.HandleAsync(e, context.CancellationToken).ConfigureAwait(false);
            }
        }
    }
}
