using LvsEvents.Eventing;
using LvsEvents.Influx;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Reconciliation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.IpvsWriter.Statistics;

/// <summary>
/// Reads the kernel table's counters every <see cref="KernelStatisticsOptions.StatisticsInterval"/> (the numbers of
/// <c>ipvsadm -Ln --stats --rate</c>), computes rates from the previous reading and publishes them three ways: InfluxDB
/// points (when <c>ConnectionStrings:influxdb</c> is set), Prometheus gauges (set on scrape) and one small
/// <c>kernel.statistics</c> event per poll for alerts and recovery. A failed reading is logged once, not every poll.
/// </summary>
public sealed class KernelStatisticsPoller(
    IKernelTableBackend backend,
    IEventEmitter emitter,
    ServiceIdentity identity,
    IOptions<KernelStatisticsOptions> options,
    IOptions<WriterOptions> writerOptions,
    TimeProvider clock,
    ILogger<KernelStatisticsPoller> logger,
    InfluxMetricsWriter? influx = null) : BackgroundService
{
    private KernelStatisticsReader? _reader;
    private KernelStatisticsSample? _latest;
    private bool _failing;

    /// <summary>The last reading (null before the first).</summary>
    public KernelStatisticsSample? Latest => Volatile.Read(ref _latest);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.StatisticsInterval;
        if (interval <= TimeSpan.Zero)
        {
            logger.LogInformation("Kernel statistics polling is off (IpvsWriter:StatisticsInterval {Interval})", interval);
            return;
        }

        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            if (Latest is { } sample)
            {
                KernelStatisticsGauges.Update(identity.NodeId, sample);
            }
        });
        using var timer = new PeriodicTimer(interval, clock);
        try
        {
            do
            {
                await PollAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One reading: kernel → sample → InfluxDB, event. Returns the sample, or null when the kernel could not be read.</summary>
    public async Task<KernelStatisticsSample?> PollAsync(CancellationToken cancellationToken)
    {
        KernelStatisticsSample sample;
        try
        {
            _reader ??= KernelStatisticsReader.Create(backend.Name, writerOptions.Value.NetworkNamespace);
            var reading = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            sample = KernelStatisticsSample.From(reading.Table, _reader.Backend, clock.GetUtcNow(), Latest, reading.Unanswered);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (!_failing)
            {
                logger.LogWarning("Kernel statistics through {Backend} cannot be read: {Error}; retrying every poll", backend.Name, e.Message);
            }

            _failing = true;
            return null;
        }

        if (_failing)
        {
            logger.LogInformation("Kernel statistics through {Backend} are read again", backend.Name);
            _failing = false;
        }

        Volatile.Write(ref _latest, sample);
        if (influx is not null)
        {
            foreach (var point in KernelStatisticsPoints.From(identity.NodeId, sample))
            {
                influx.TryWrite(point);
            }
        }

        await emitter.EmitAsync(sample.ToEvent(), cancellationToken).ConfigureAwait(false);
        return sample;
    }

    public override void Dispose()
    {
        // The host disposes the poller twice (as itself and as a hosted service).
        Interlocked.Exchange(ref _reader, null)?.Dispose();
        base.Dispose();
    }
}
