using System.Threading.Channels;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Health.Reporting;

/// <summary>
/// Where the checkers post their events without waiting for the disk: one task hands them to the emitter in batches,
/// so that the spool commits many with one fsync and a slow disk never delays a probe. Order is kept.
/// </summary>
public sealed class EventOutbox(IEventEmitter emitter, ILogger<EventOutbox> logger)
{
    private const int BatchSize = 512;
    private readonly Channel<LvsEvent> _events = Channel.CreateUnbounded<LvsEvent>(new UnboundedChannelOptions { SingleReader = true });
    private long _posted;
    private long _emitted;

    public long Posted => Interlocked.Read(ref _posted);

    public long Emitted => Interlocked.Read(ref _emitted);

    public void Post(LvsEvent e)
    {
        Interlocked.Increment(ref _posted);
        _events.Writer.TryWrite(e);
    }

    /// <summary>Emits until stopped, then what was already posted (the last results before a shutdown matter too).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var batch = new List<LvsEvent>(BatchSize);
        var pending = new ValueTask<LvsEvent>[BatchSize];
        try
        {
            while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                await DrainAsync(batch, pending, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await DrainAsync(batch, pending, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task DrainAsync(List<LvsEvent> batch, ValueTask<LvsEvent>[] pending, CancellationToken cancellationToken)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < BatchSize && _events.Reader.TryRead(out var e))
            {
                batch.Add(e);
            }

            if (batch.Count == 0)
            {
                return;
            }

            while (true)
            {
                try
                {
                    for (var i = 0; i < batch.Count; i++)
                    {
                        pending[i] = emitter.EmitAsync(batch[i], cancellationToken);
                    }

                    for (var i = 0; i < batch.Count; i++)
                    {
                        await pending[i].ConfigureAwait(false);
                    }

                    Interlocked.Add(ref _emitted, batch.Count);
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The spool is local disk: a failure is rare and operator-visible; keep the events and retry.
                    logger.LogError(e, "Could not spool {Count} health events; retrying in 1 s", batch.Count);
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
