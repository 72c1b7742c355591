namespace LvsEvents.Influx.Tests.Support;

/// <summary>Waits for a condition the writer's background loop brings about.</summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<bool> condition, Func<string> describeState, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The condition did not hold in time; state: {describeState()}");
            }

            await Task.Delay(20);
        }
    }

    public static Task StatusAsync(InfluxMetricsWriter writer, Func<InfluxWriterStatus, bool> condition, TimeSpan? timeout = null) =>
        HoldsAsync(() => condition(writer.GetStatus()), () => writer.GetStatus().ToString(), timeout);
}
