using LvsEvents.Contracts;
using LvsEvents.Eventing;
using MassTransit;

namespace LvsEvents.Vrrp.Commands;

/// <summary>
/// Takes the commands lvs-vrrp acts on from the bus, on the durable queue <c>lvs-vrrp-NODE</c>: resignations addressed to
/// this node (split-brain policy) and drills. Only hands them to the instances' loops: nothing here waits on the protocol.
/// </summary>
public sealed class VrrpCommandConsumer(VrrpResignHandler resign, VrrpDrillHandler drills, ServiceIdentity identity) : IConsumer<EventBatch>
{
    public const string QueuePrefix = "lvs-vrrp-";

    public Task Consume(ConsumeContext<EventBatch> context)
    {
        foreach (var e in context.Message.Read())
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
