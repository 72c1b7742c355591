using LvsEvents.Contracts;
using LvsEvents.Eventing;
using MassTransit;

namespace LvsEvents.Vrrp.Commands;

/// <summary>
/// Takes the commands lvs-vrrp acts on from the bus, on the durable queue <c>lvs-vrrp-commands-NODE</c> bound to the
/// commands' exchange only (<see cref="CommandBatch"/>: the director's VRRP process never sees the event stream):
/// resignations addressed to this node (split-brain policy) and drills for it. Only hands them to the instances'
/// loops: nothing here waits on the protocol.
/// </summary>
public sealed class VrrpCommandConsumer(VrrpResignHandler resign, VrrpDrillHandler drills, ServiceIdentity identity) : IConsumer<CommandBatch>
{
    public const string QueuePrefix = "lvs-vrrp-commands-";

    public Task Consume(ConsumeContext<CommandBatch> context)
    {
        foreach (var e in context.Message.Batch.Read())
        {
            switch (e)
            {
                case VrrpResignCommand c when c.TargetNode == identity.NodeId:
                    resign.Handle(c);
                    break;
                case DrillCommand { Drill: DrillKind.MasterFailure or DrillKind.Partition } d when d.IsFor(identity.NodeId):
                    drills.Handle(d);
                    break;
            }
        }

        return Task.CompletedTask;
    }
}
