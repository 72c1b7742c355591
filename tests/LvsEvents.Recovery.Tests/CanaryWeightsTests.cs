using LvsEvents.Contracts;
using LvsEvents.Recovery.Policy;

namespace LvsEvents.Recovery.Tests;

/// <summary>The share arithmetic: the new server's weight / the total weight = the step, the old servers' ratios kept.</summary>
public sealed class CanaryWeightsTests
{
    private static readonly VirtualServiceRef Service = VirtualServiceRef.Tcp("10.0.0.100", 80);
    private static readonly RealServerRef Old1 = new(Service, "10.0.0.21", 8080);
    private static readonly RealServerRef Old2 = new(Service, "10.0.0.22", 8080);

    [Theory]
    [InlineData(10, 20, 10)]
    [InlineData(30, 20, 10)]
    [InlineData(50, 20, 10)]
    [InlineData(1, 20, 10)]
    [InlineData(99, 20, 10)]
    [InlineData(33, 3, 4)]
    [InlineData(67, 3, 4)]
    [InlineData(25, 1, 1)]
    [InlineData(10, 65535, 1)]
    public void The_new_servers_share_is_the_step_within_half_a_point_and_the_old_ratio_is_kept(int percent, int w1, int w2)
    {
        var plan = CanaryWeights.For(percent, new Dictionary<RealServerRef, int> { [Old1] = w1, [Old2] = w2 }, 0);

        var total = plan.NewWeight + plan.OldWeights.Values.Sum();
        Assert.InRange(plan.NewWeight / (double)total, percent / 100.0 - 0.005, percent / 100.0 + 0.005);
        Assert.Equal(plan.NewWeight / (double)total, plan.Share, 9);
        // Same factor on both old servers: their relative weights are unchanged.
        Assert.Equal(w1 * (long)plan.OldWeights[Old2], w2 * (long)plan.OldWeights[Old1]);
        Assert.All(plan.OldWeights.Values.Append(plan.NewWeight), w => Assert.InRange(w, 1, CanaryWeights.MaxWeight));
    }

    [Fact]
    public void Configured_weights_are_kept_when_they_already_give_the_share()
    {
        var plan = CanaryWeights.For(50, new Dictionary<RealServerRef, int> { [Old1] = 20, [Old2] = 10 }, 0);

        Assert.Equal((30, 20, 10, 0.5), (plan.NewWeight, plan.OldWeights[Old1], plan.OldWeights[Old2], plan.Share));
    }

    [Fact]
    public void Rounding_scales_the_old_servers_up_rather_than_miss_the_share()
    {
        // 10 % of 30: 3.33 rounds to 3 (9.1 %); doubled, 6.67 rounds to 7 of 67 (10.4 %).
        var plan = CanaryWeights.For(10, new Dictionary<RealServerRef, int> { [Old1] = 20, [Old2] = 10 }, 0);

        Assert.Equal((7, 40, 20), (plan.NewWeight, plan.OldWeights[Old1], plan.OldWeights[Old2]));
    }

    [Fact]
    public void A_single_old_server_of_weight_one_is_scaled_until_the_new_server_gets_a_whole_weight()
    {
        var plan = CanaryWeights.For(10, new Dictionary<RealServerRef, int> { [Old1] = 1 }, 0);

        Assert.Equal((1, 9, 0.1), (plan.NewWeight, plan.OldWeights[Old1], plan.Share));
    }

    [Fact]
    public void At_100_percent_the_old_servers_are_at_0_and_the_new_one_at_its_weight_or_the_old_total()
    {
        var old = new Dictionary<RealServerRef, int> { [Old1] = 20, [Old2] = 10 };

        var configured = CanaryWeights.For(100, old, 15);
        var unweighted = CanaryWeights.For(100, old, 0);

        Assert.Equal((15, 1.0), (configured.NewWeight, configured.Share));
        Assert.Equal(30, unweighted.NewWeight);
        Assert.All(configured.OldWeights.Values.Concat(unweighted.OldWeights.Values), w => Assert.Equal(0, w));
    }

    [Fact]
    public void Old_servers_without_weight_have_no_share_to_give()
    {
        Assert.Throws<ArgumentException>(() => CanaryWeights.For(10, new Dictionary<RealServerRef, int> { [Old1] = 0 }, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CanaryWeights.For(0, new Dictionary<RealServerRef, int> { [Old1] = 1 }, 0));
    }
}
