using Xunit;

namespace LvsEvents.Influx.Tests.Writing;

public sealed class RetryBackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 400)]
    [InlineData(4, 800)]
    [InlineData(5, 1000)] // capped
    [InlineData(60, 1000)] // no overflow far past the cap
    public void Delays_double_per_retry_up_to_the_cap_with_jitter_between_half_and_full(int retry, int ceilingMilliseconds)
    {
        var random = new Random(1234);
        var delays = Enumerable.Range(0, 500).Select(_ => RetryBackoff.Delay(retry, Initial, Max, random)).ToList();

        var ceiling = TimeSpan.FromMilliseconds(ceilingMilliseconds);
        Assert.All(delays, delay => Assert.InRange(delay, ceiling / 2, ceiling));
        Assert.True(delays.Distinct().Count() > 100, "jitter should spread the delays");
    }

    [Fact]
    public void Retry_numbers_start_at_one()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RetryBackoff.Delay(0, Initial, Max, new Random(1)));
    }
}
