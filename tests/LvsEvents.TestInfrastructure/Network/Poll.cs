using System.Diagnostics;

namespace LvsEvents.TestInfrastructure.Network;

/// <summary>Waiting with a deadline instead of sleeping: returns as soon as the condition holds.</summary>
public static class Poll
{
    public static async Task<TimeSpan?> Until(Func<bool> condition, TimeSpan timeout, TimeSpan? every = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (condition())
            {
                return clock.Elapsed;
            }
            if (clock.Elapsed > timeout)
            {
                return null;
            }
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(50));
        }
    }
}
