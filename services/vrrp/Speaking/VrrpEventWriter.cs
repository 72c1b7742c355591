using System.Threading.Channels;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// Hands events to the durable spool off the protocol loops: an fsync never delays an advert or a failover.
/// Stops after the speaker (registered before it) and drains what is queued.
/// </summary>
public sealed class VrrpEventWriter(IEventEmitter emitter, TimeProvider clock, ILogger<VrrpEventWriter> logger) : BackgroundService
{
    private readonly Channel<LvsEvent> _queue = Channel.CreateUnbounded<LvsEvent>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues <paramref name="e"/>, timed now: when it happened, not when the spool got to it.</summary>
    public void Post(LvsEvent e) => _queue.Writer.TryWrite(e.OccurredAt == default ? e with { OccurredAt = clock.GetUtcNow() } : e);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var e in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await EmitAsync(e, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // What the speaker posted while stopping (priority 0, VIPs released) still goes to the spool.
        while (_queue.Reader.TryRead(out var e))
        {
            await EmitAsync(e, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task EmitAsync(LvsEvent e, CancellationToken cancellationToken)
    {
        try
        {
            await emitter.EmitAsync(e, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError("Could not spool {EventType}: {Error}", e.EventType, ex.Message);
        }
    }
}
