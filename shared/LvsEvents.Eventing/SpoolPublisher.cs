using LvsEvents.Contracts;
using LvsEvents.Eventing.Spool;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Eventing;

/// <summary>
/// Delivers the spool to the bus, in order: reads a batch, publishes it with publisher confirms, and only
/// then acknowledges it in the spool. While the broker is away it keeps retrying the same batch with
/// backoff; the service meanwhile keeps emitting into the spool. On stop it stops before the bus (it is registered
/// after it) and goes on delivering what is spooled for up to <see cref="EventingOptions.StopDrainTimeout"/>: a
/// batch cut off while its confirm was on the way stays unacknowledged and is sent again at the next start.
/// </summary>
public sealed class SpoolPublisher(
    DurableEventSpool spool,
    IBus bus,
    ServiceIdentity identity,
    IOptions<EventingOptions> options,
    ILogger<SpoolPublisher> logger) : BackgroundService
{
    private readonly CancellationTokenSource _drain = new();
    private long _published;

    /// <summary>Events confirmed by the broker since start.</summary>
    public long Published => Interlocked.Read(ref _published);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _drain.CancelAfter(options.Value.StopDrainTimeout);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _drain.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!_drain.IsCancellationRequested)
        {
            // Stopping: deliver what is spooled already, then stop; never wait for more.
            if (stoppingToken.IsCancellationRequested && spool.Depth == 0)
            {
                return;
            }

            IReadOnlyList<SpoolRecord> records;
            try
            {
                records = await spool.ReadAsync(settings.MaxBatchEvents, stoppingToken.IsCancellationRequested ? _drain.Token : stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                if (_drain.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            var batch = EventBatch.FromJson(identity.NodeId, identity.Service, records[0].Sequence, records.Select(r => r.Payload).ToList());
            if (!await PublishUntilConfirmed(batch, settings, _drain.Token).ConfigureAwait(false))
            {
                return;
            }

            spool.Acknowledge(records[^1].Sequence);
            Interlocked.Add(ref _published, batch.Count);
        }
    }

    /// <param name="drainOver">Cancelled when the drain after a stop is over.</param>
    private async Task<bool> PublishUntilConfirmed(EventBatch batch, EventingOptions settings, CancellationToken drainOver)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        var failures = 0;
        while (true)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(drainOver);
            attempt.CancelAfter(settings.PublishTimeout);
            try
            {
                await bus.PublishWithCommandsAsync(batch, attempt.Token).ConfigureAwait(false);
                if (failures > 0)
                {
                    logger.LogInformation(
                        "Broker reachable again after {Failures} failed attempts; delivering {Backlog} spooled events",
                        failures, spool.Depth);
                }

                return true;
            }
            catch (Exception e) when (!drainOver.IsCancellationRequested)
            {
                if (failures++ == 0)
                {
                    logger.LogWarning(
                        "Broker unavailable ({Error}); events stay in the spool {SpoolDirectory} ({Backlog} waiting) and are delivered when it returns",
                        e.GetBaseException().Message, spool.Location, spool.Depth);
                }

                try
                {
                    await Task.Delay(delay, drainOver).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, settings.MaxRetryDelay.Ticks));
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }
}
