using Xunit;

namespace LvsEvents.Influx.Tests.Writing;

public sealed class InfluxWriterOptionsTests
{
    [Fact]
    public void The_defaults_are_the_documented_ones_and_valid()
    {
        var options = new InfluxWriterOptions();

        options.ThrowIfInvalid();
        Assert.Equal(100_000, options.BufferCapacity);
        Assert.Equal(5_000, options.MaxBatchSize);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FlushInterval);
    }

    [Theory]
    [InlineData(nameof(InfluxWriterOptions.BufferCapacity), "Influx:BufferCapacity must be positive (was 0).")]
    [InlineData(nameof(InfluxWriterOptions.MaxBatchSize), "Influx:MaxBatchSize must be positive (was 0).")]
    [InlineData(nameof(InfluxWriterOptions.FlushInterval), "Influx:FlushInterval must be positive (was 00:00:00).")]
    [InlineData(nameof(InfluxWriterOptions.RequestTimeout), "Influx:RequestTimeout must be positive (was 00:00:00).")]
    [InlineData(nameof(InfluxWriterOptions.RetryInitialDelay), "Influx:RetryInitialDelay must be positive (was 00:00:00).")]
    [InlineData(nameof(InfluxWriterOptions.ShutdownFlushTimeout), "Influx:ShutdownFlushTimeout must be positive (was 00:00:00).")]
    public void A_zero_setting_is_refused_by_name(string setting, string message)
    {
        var options = new InfluxWriterOptions();
        var property = typeof(InfluxWriterOptions).GetProperty(setting)!;
        property.SetValue(options, property.PropertyType == typeof(int) ? 0 : TimeSpan.Zero);

        var exception = Assert.Throws<ArgumentException>(options.ThrowIfInvalid);
        Assert.Equal(message, exception.Message);
    }

    [Fact]
    public void A_max_retry_delay_below_the_initial_delay_is_refused()
    {
        var options = new InfluxWriterOptions { RetryInitialDelay = TimeSpan.FromSeconds(2), RetryMaxDelay = TimeSpan.FromSeconds(1) };

        var exception = Assert.Throws<ArgumentException>(options.ThrowIfInvalid);
        Assert.Equal("Influx:RetryMaxDelay (00:00:01) must not be less than Influx:RetryInitialDelay (00:00:02).", exception.Message);
    }

    [Fact]
    public void Negative_retry_attempts_are_refused()
    {
        var options = new InfluxWriterOptions { MaxRetryAttempts = -1 };

        var exception = Assert.Throws<ArgumentException>(options.ThrowIfInvalid);
        Assert.Equal("Influx:MaxRetryAttempts must not be negative (was -1).", exception.Message);
    }
}
