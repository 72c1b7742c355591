using LvsEvents.Contracts;
using LvsEvents.Vrrp.Definitions;

namespace LvsEvents.Vrrp.Tracking;

/// <summary>What an instance's tracked scripts and interfaces add up to: a priority, or a fault and its cause.</summary>
public sealed record TrackingVerdict(int EffectivePriority, VrrpTransitionReason? Fault, string Cause);

/// <summary>
/// keepalived's arithmetic for <c>track_script</c> / <c>track_interface</c>: a weight-0 entry that fails puts
/// the instance in FAULT; a positive weight is added while the entry is up, a negative one while it is down
/// (<c>reverse</c> swaps the two). An address owner (255) keeps its priority. Pure.
/// </summary>
public static class TrackedPriority
{
    public static TrackingVerdict Evaluate(int basePriority, IReadOnlyList<PriorityTrack> tracks, Func<PriorityTrack, bool> isUp)
    {
        var priority = basePriority;
        var causes = new List<string>();
        foreach (var track in tracks)
        {
            var up = isUp(track);
            if (track.Weight == 0)
            {
                if (!up)
                    return new TrackingVerdict(basePriority, track.Kind == TrackedKind.Script ? VrrpTransitionReason.ScriptFailed : VrrpTransitionReason.InterfaceDown, $"{track} is down");
                continue;
            }
            var weight = track.Reverse ? -track.Weight : track.Weight;
            var delta = weight > 0 ? (up ? weight : 0) : (up ? 0 : weight);
            if (delta != 0)
            {
                priority += delta;
                causes.Add($"{track} {(up ? "up" : "down")} {delta:+0;-0}");
            }
        }
        if (basePriority == 255)
            return new TrackingVerdict(255, null, "address owner");
        return new TrackingVerdict(Math.Clamp(priority, 1, 254), null, causes.Count == 0 ? "all tracked objects up" : string.Join(", ", causes));
    }
}
