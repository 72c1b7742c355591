using LvsEvents.Contracts;
using LvsEvents.Eventing;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace LvsEvents.IpvsWriter.Reconciliation;

/// <summary>
/// Takes the events the writer acts on from the bus: this node's health decisions (health changes, misc_dynamic
/// weights, quorum, and the periodic per-service health snapshot it catches up from) and commands from anywhere (set-weight, drain, restore; both directors apply them). Each director
/// has its own durable queue, so events published while the writer was down are applied when it returns.
/// </summary>
public sealed class WriterEventConsumer(Reconciler reconciler, ServiceIdentity identity, ILogger<WriterEventConsumer> logger) : IConsumer<EventBatch>
{
    public const string QueuePrefix = "lvs-ipvs-writer-";

    public async Task Consume(ConsumeContext<EventBatch> context)
    {
        foreach (var e in context.Message.Read())
        {
            if (!Relevant(e, identity.NodeId))
            {
                continue;
            }

            try
            {
                var operations = await reconciler.HandleAsync(e, context.CancellationToken).ConfigureAwait(false);
                if (operations.Count > 0)
                {
                    logger.LogInformation("{EventType} {EventId}: {Operations}", e.EventType, e.EventId, string.Join("; ", operations.Select(o => o.Change())));
                }
                else if (e is LvsCommand)
                {
                    // A command that changes nothing now (e.g. a weight for a real server out of the table, kept for its
                    // return) is still worth a line: the operator sees it was received and accepted.
                    logger.LogInformation("{EventType} {EventId}: accepted; nothing to change in the kernel table now", e.EventType, e.EventId);
                }
            }
            catch (Backends.KernelTableException ex)
            {
                // The next resync retries from the kernel's real state; the bus message is done either way.
                logger.LogError("{EventType} {EventId} not applied: {Error}", e.EventType, e.EventId, ex.Message);
            }
        }
    }

    public static bool Relevant(LvsEvent e, string nodeId) => e switch
    {
        VrrpResignCommand => false, // for the VRRP service, not the kernel table
        LvsCommand => true,
        RealServerHealthChanged or VirtualServiceQuorumChanged or VirtualServiceHealthSnapshot => e.NodeId == nodeId,
        RealServerWeightChanged => e.NodeId == nodeId && e.Service != "ipvs-writer",
        _ => false,
    };
}
