using LvsEvents.Contracts;
using LvsEvents.Vrrp.Speaking;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Vrrp.Commands;

/// <summary>
/// <c>command.vrrp-resign</c> for this node: the instance's runner overrides its priority, stops, or restores. A command
/// seen before (a redelivery) changes nothing; so does a repeated one (the runner compares with what is in effect).
/// </summary>
public sealed class VrrpResignHandler(VrrpSpeaker speaker, ILogger<VrrpResignHandler> logger)
{
    private readonly HashSet<Guid> _seen = [];

    public void Handle(VrrpResignCommand command)
    {
        lock (_seen)
        {
            if (!_seen.Add(command.EventId))
                return;
        }

        if (speaker.Runners.FirstOrDefault(r => r.Name == command.Instance) is not { } runner)
        {
            logger.LogWarning("{EventType} {EventId} for {Instance}: no such instance here; ignored", command.EventType, command.EventId, command.Instance);
            return;
        }

        logger.LogWarning("{EventType} {EventId} for {Instance}: {Action} (by {RequestedBy}: {Reason})", command.EventType, command.EventId, command.Instance,
            command.Restore ? "restore" : command.Mode == VrrpResignMode.Stop ? "stop" : $"priority {command.Priority}", command.RequestedBy, command.Reason);
        runner.Resign(command);
    }
}
