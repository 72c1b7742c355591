using LvsEvents.Contracts;

namespace LvsEvents.Recovery.Policy;

/// <summary>The weights of one canary step: the new server's weight, the old servers' weights, the share that gives.</summary>
public sealed record CanaryWeightPlan(int NewWeight, IReadOnlyDictionary<RealServerRef, int> OldWeights, double Share);

/// <summary>
/// Weights that give the new server a traffic share of the service's total weight (pure arithmetic). The old servers
/// keep their relative weights: they are multiplied by the smallest factor k for which the new server's rounded weight
/// lands within <see cref="Tolerance"/> of the share (k = 1 keeps the configured weights when it does). With integer
/// percentages an exact k ≤ 99 always exists, so the search ends.
/// </summary>
public static class CanaryWeights
{
    /// <summary>How far the achieved share may be from the asked one: half a percentage point.</summary>
    public const double Tolerance = 0.005;

    /// <summary>The largest weight IPVS and keepalived accept.</summary>
    public const int MaxWeight = 65535;

    /// <param name="percent">The new server's share, 1..100.</param>
    /// <param name="old">The configured weights of the service's other servers; their sum must be positive.</param>
    /// <param name="newConfigured">The new server's configured weight, used at 100 % when positive.</param>
    public static CanaryWeightPlan For(int percent, IReadOnlyDictionary<RealServerRef, int> old, int newConfigured)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        var total = old.Values.Sum(w => (long)Math.Max(w, 0));
        if (total <= 0)
        {
            throw new ArgumentException("the old servers have no weight to share", nameof(old));
        }

        if (percent == 100)
        {
            // All traffic: the old servers at 0, the new one at its own weight, or the old total (the same capacity).
            var full = newConfigured > 0 ? newConfigured : (int)Math.Min(total, MaxWeight);
            return new CanaryWeightPlan(full, old.ToDictionary(p => p.Key, _ => 0), 1.0);
        }

        var target = percent / 100.0;
        var largest = old.Values.Max();
        CanaryWeightPlan? best = null;
        for (var k = 1; k <= 100 && (long)k * largest <= MaxWeight; k++)
        {
            var scaled = total * k;
            var weight = (long)Math.Round(percent * (double)scaled / (100 - percent), MidpointRounding.AwayFromZero);
            if (weight < 1 || weight > MaxWeight)
            {
                continue;
            }

            var share = weight / (double)(weight + scaled);
            var plan = new CanaryWeightPlan((int)weight, old.ToDictionary(p => p.Key, p => Math.Max(p.Value, 0) * k), share);
            if (Math.Abs(share - target) <= Tolerance)
            {
                return plan;
            }

            if (best is null || Math.Abs(share - target) < Math.Abs(best.Share - target))
            {
                best = plan;
            }
        }

        // Only when weights near MaxWeight leave no room to scale: the closest share there is.
        return best ?? new CanaryWeightPlan(1, old, 1 / (double)(1 + total));
    }
}
