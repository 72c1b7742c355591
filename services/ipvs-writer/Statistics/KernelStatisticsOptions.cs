namespace LvsEvents.IpvsWriter.Statistics;

/// <summary>The statistics settings of section <c>IpvsWriter</c>.</summary>
public sealed class KernelStatisticsOptions
{
    /// <summary>How often the kernel's counters are read (InfluxDB points, Prometheus gauges, one <c>kernel.statistics</c> event); 0 turns polling off.</summary>
    public TimeSpan StatisticsInterval { get; set; } = TimeSpan.FromSeconds(5);
}
