using LvsEvents.Contracts;
using LvsEvents.Vrrp.Protocol;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// What commands from the bus do to an instance: a resignation (split-brain policy) overrides the priority or stops
/// the instance until restored; a drill crashes it (silent, VIPs gone, no priority 0) or makes it deaf for a while.
/// Every change is an input on the instance's own loop, so the protocol path never waits for the bus.
/// </summary>
public sealed partial class VrrpInstanceRunner
{
    private int _trackedPriority;
    private VrrpTransitionReason? _trackedFault;
    private int? _resignPriority;
    private bool _resignStopped;
    private bool _crashed;
    private volatile bool _deaf;
    // Loop-only: the command whose input is being carried out, and the one whose drop the next transition follows from.
    private CommandContext? _command;
    private CommandContext? _transitionTag;

    /// <summary>The command behind the events an input causes: correlation and causation.</summary>
    private sealed record CommandContext(Guid CorrelationId, Guid CausationId);

    /// <summary>Whether a partition drill has this instance ignoring every advert.</summary>
    public bool Deaf => _deaf;

    /// <summary>
    /// <c>command.vrrp-resign</c> for this instance: PriorityDrop advertises the given priority, Stop leaves the protocol
    /// (priority 0, VIPs released) and stays out, Restore goes back to configuration and tracking. Repeats change nothing.
    /// </summary>
    public void Resign(VrrpResignCommand c) => Post(now =>
    {
        _command = new CommandContext(c.CorrelationId, c.EventId);
        var cause = $"{EventTypes.VrrpResignCommand} {(c.Restore ? "restore" : c.Mode.ToString())} by {c.RequestedBy}: {c.Reason}";
        if (c.Restore)
        {
            _transitionTag = null;
            if (_resignStopped)
            {
                (_resignStopped, _resignPriority) = (false, null);
                return _crashed ? VrrpDecision.None : Restart(now, cause);
            }
            if (_resignPriority is null)
                return VrrpDecision.None;
            _resignPriority = null;
            return _trackedFault is null ? _machine.OnPriorityChanged(_trackedPriority, now, cause) : VrrpDecision.None;
        }
        if (c.Mode == VrrpResignMode.Stop)
        {
            if (_resignStopped)
                return VrrpDecision.None;
            _resignStopped = true;
            return _crashed ? VrrpDecision.None : _machine.Shutdown(now);
        }
        var priority = Math.Clamp(c.Priority ?? 1, 1, VrrpInstanceOptions.OwnerPriority - 1);
        if (_resignPriority == priority)
            return VrrpDecision.None;
        _resignPriority = priority;
        // The drop itself changes no state: the transition it leads to (yielding to the peer) comes with a later advert.
        _transitionTag = _machine.State == VrrpState.Master ? _command : null;
        return _machine.OnPriorityChanged(priority, now, cause);
    });

    /// <summary>
    /// Master-failure drill: as a crash would, the instance goes silent at once (no priority 0 advert), its VIPs are
    /// removed and it hears nothing, until <see cref="RecoverFromCrash"/> starts it again as a restarted service would.
    /// </summary>
    public void Crash(DrillCommand drill, string detail) => Post(now =>
    {
        if (_crashed)
            return VrrpDecision.None;
        _crashed = true;
        var context = new CommandContext(drill.EventId, drill.EventId);
        // A machine never started has no timers and ignores adverts: silence, as a dead process is.
        _machine = new VrrpInstanceStateMachine(_definition.ToProtocolOptions(_link.SourceAddress));
        _announcer.Stop();
        State = VrrpState.Initialize;
        ReleaseAddresses(_definition.OwnedAddresses, "drill: master failure", null, context);
        _logger.LogWarning("{Instance}: drill {DrillId}: crashed on purpose ({Detail})", Name, drill.EventId, detail);
        PostDrillStep(drill, DrillStepKind.Injected, detail);
        return VrrpDecision.None;
    });

    /// <summary>The end of a master-failure drill: the instance starts over, as the restarted service would.</summary>
    public void RecoverFromCrash(DrillCommand drill) => Post(now =>
    {
        if (!_crashed)
            return VrrpDecision.None;
        _crashed = false;
        _command = new CommandContext(drill.EventId, drill.EventId);
        PostDrillStep(drill, DrillStepKind.Ended, "restarted after the simulated crash");
        return _resignStopped ? VrrpDecision.None : Restart(now, $"drill {drill.EventId} ended");
    });

    /// <summary>Partition drill: ignore every advert (true) or listen again (false). Checked by the receiver per packet.</summary>
    public void SetDeaf(DrillCommand drill, bool deaf, string detail)
    {
        _deaf = deaf;
        PostDrillStep(drill, deaf ? DrillStepKind.Injected : DrillStepKind.Ended, detail);
    }

    private void PostDrillStep(DrillCommand drill, DrillStepKind step, string detail)
        => _events.Post(new DrillStep
        {
            DrillId = drill.EventId, Drill = drill.Drill, Step = step, Instance = Name, Detail = detail,
            CorrelationId = drill.EventId, CausationId = drill.EventId,
        });

    /// <summary>A fresh state machine, started as at service start, with the priority tracking and resignation say.</summary>
    private VrrpDecision Restart(DateTimeOffset now, string cause)
    {
        _machine = new VrrpInstanceStateMachine(_definition.ToProtocolOptions(_link.SourceAddress));
        var actions = new List<VrrpAction>(_machine.Start(now).Actions);
        if (_trackedFault is { } fault)
            actions.AddRange(_machine.OnFault(fault, now).Actions);
        else if ((_resignPriority ?? _trackedPriority) is var wanted && wanted != _machine.EffectivePriority)
            actions.AddRange(_machine.OnPriorityChanged(wanted, now, cause).Actions);
        return new VrrpDecision(actions);
    }

    private CommandContext? TakeTransitionTag()
    {
        var tag = _transitionTag;
        _transitionTag = null;
        return tag;
    }
}
