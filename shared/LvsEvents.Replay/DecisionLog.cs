using LvsEvents.Contracts;

namespace LvsEvents.Replay;

/// <summary>
/// One line of the postmortem's "decisions and commands": who asked for what, and why. A recovery decision names its
/// policy and reason; a command its requester, what it asks and its reason; a drill's steps say what each service did.
/// The correlation id ties a command to the decision and the event behind it.
/// </summary>
public sealed record DecisionEntry(DateTimeOffset At, string Node, string Service, string Kind, string Who, string What, string? Why, Guid CorrelationId, Guid? CausationId);

public static class DecisionLog
{
    /// <summary>The entry for a decision, command or drill step; null for any other event.</summary>
    public static DecisionEntry? Describe(LvsEvent e) => e switch
    {
        RecoveryDecision d => Entry(d, "decision", $"recovery {d.Policy}", $"{d.Action} {d.Subject}{(d.Weight is { } w ? $" weight {w}" : "")}{(d.Alert is { } a ? $" [{a}]" : "")}", d.Reason),
        LvsCommand c => Entry(c, c.EventType, c.RequestedBy, What(c), c.Reason),
        DrillStep s => Entry(s, s.EventType, s.Service, $"{s.Drill} {s.Step.ToString().ToLowerInvariant()}{(s.Instance is null ? "" : " " + s.Instance)}{(s.RealServer is null ? "" : " " + s.RealServer)}", s.Detail),
        _ => null,
    };

    private static DecisionEntry Entry(LvsEvent e, string kind, string who, string what, string? why) =>
        new(e.OccurredAt, e.NodeId, e.Service, kind, who, what, why, e.CorrelationId, e.CausationId);

    private static string What(LvsCommand c) => c switch
    {
        SetWeightCommand s => $"set {s.RealServer} weight {s.Weight} ({s.Cause})",
        DrainCommand d => $"drain {d.RealServer} (timeout {d.Timeout})",
        RestoreCommand r => $"restore {r.RealServer}",
        VrrpResignCommand v => v.Restore
            ? $"restore VRRP {v.Instance} on {v.TargetNode}"
            : $"resign VRRP {v.Instance} on {v.TargetNode}: {(v.Mode == VrrpResignMode.Stop ? "stop" : $"priority {v.Priority}")}",
        DrillCommand d => $"drill {d.Drill} for {d.Duration}{(d.Instance is null ? "" : " " + d.Instance)}{(d.RealServer is null ? "" : " " + d.RealServer)}",
        _ => c.EventType,
    };
}
