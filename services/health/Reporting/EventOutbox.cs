using System.Threading.Channels;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Health.Reporting;

/// <summary>
/// Where the checkers post their events without waiting for the disk: one task hands them to the emitter in groups,
/// so that the spool commits many with one write and one fsync and a slow disk never delays a probe. Order is kept.
/// Probe results wait up to <see cref="Linger"/> for company (at 10,000 results a second, ten groups of a thousand a
/// second instead of one fsync, one acknowledgement and one wake-up per handful; on a VM's disk each fsync costs most
/// of a millisecond of CPU); any other event (a transition, a stall, a snapshot) goes at once, with whatever results are
/// waiting, so the linger never delays a decision.
/// </summary>
public sealed class EventOutbox(IEventEmitter emitter, ILogger<EventOutbox> logger)
{
    /// <summary>How long a probe result may wait for others before it is spooled.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(100);

    private const int BatchSize = 4096;
    private readonly Channel<LvsEvent> _events = Channel.CreateUnbounded<LvsEvent>(new UnboundedChannelOptions { SingleReader = true });
    private TaskCompletionSource _urgent = NewSignal();
    private long _posted;
    private long _emitted;

    public long Posted => Interlocked.Read(ref _posted);

    public long Emitted => Interlocked.Read(ref _emitted);

    public void Post(LvsEvent e)
    {
        Interlocked.Increment(ref _posted);
        _events.Writer.TryWrite(e);
        if (e is not ProbeCompleted)
        {
            Volatile.Read(ref _urgent).TrySetResult();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Emits until stopped, then what was already posted (the last results before a shutdown matter too).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var batch = new List<LvsEvent>(BatchSize);
        try
        {
            while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var urgent = Volatile.Read(ref _urgent).Task;
                if (!urgent.IsCompleted)
                {
                    await Task.WhenAny(urgent, Task.Delay(Linger, cancellationToken)).ConfigureAwait(false);
                }

                // Before draining: an urgent event posted from now on is in this group or signals the next one.
                Volatile.Write(ref _urgent, NewSignal());
                await DrainAsync(batch, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await DrainAsync(batch, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task DrainAsync(List<LvsEvent> batch, CancellationToken cancellationToken)
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
                    // One group: each event its own spool record, one write and one fsync for all.
                    await emitter.EmitManyAsync(batch, cancellationToken).ConfigureAwait(false);
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
