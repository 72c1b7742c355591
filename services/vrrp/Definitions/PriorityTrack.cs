namespace LvsEvents.Vrrp.Definitions;

/// <summary>What a tracked object (a <c>vrrp_script</c> or an interface) is.</summary>
public enum TrackedKind
{
    Script,
    Interface,
}

/// <summary>
/// One <c>track_script</c> or <c>track_interface</c> entry of an instance: weight 0 means FAULT while it
/// fails; otherwise the weight moves the priority (added while up when positive, while down when negative;
/// <c>reverse</c> flips the direction).
/// </summary>
public sealed record PriorityTrack(TrackedKind Kind, string Name, int Weight, bool Reverse)
{
    public override string ToString() => $"{(Kind == TrackedKind.Script ? "script" : "interface")} {Name}";
}
