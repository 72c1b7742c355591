namespace LvsEvents.Health.State;

/// <summary>
/// A virtual service's quorum, as keepalived's update_quorum_state decides it: it is gained when the live weight
/// reaches quorum + hysteresis and lost when the live weight is 0 or falls below quorum - hysteresis, so a weight
/// hovering around the quorum does not flap the sorry server.
/// </summary>
public sealed class QuorumState(int quorum, int hysteresis, int initialLiveWeight, bool? initiallyUp = null)
{
    public int Quorum => quorum;

    public int Hysteresis => hysteresis;

    /// <summary>At start-up there is no history to hold on to: the quorum is met or not (a reload carries the state over).</summary>
    public bool IsUp { get; private set; } = initiallyUp ?? (initialLiveWeight >= quorum && initialLiveWeight > 0);

    public int LiveWeight { get; private set; } = initialLiveWeight;

    /// <summary>Applies a new live weight; returns the new state when it changed.</summary>
    public bool? Update(int liveWeight)
    {
        LiveWeight = liveWeight;
        if (!IsUp && liveWeight >= (long)quorum + hysteresis && liveWeight > 0)
        {
            IsUp = true;
            return true;
        }

        if (IsUp && (liveWeight == 0 || liveWeight < (long)quorum - hysteresis))
        {
            IsUp = false;
            return false;
        }

        return null;
    }
}
