using LvsEvents.Contracts;
using LvsEvents.EventStore;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Monitor.Recording;

/// <summary>
/// Records every event on the bus in the event store. Messages are taken a few at a time (MassTransit
/// batch) so that one PostgreSQL transaction stores thousands of events; duplicates are skipped by id.
/// </summary>
public sealed class EventBatchRecorder(
    EventRecorder recorder,
    EventStoreReadiness readiness,
    RecordingTurnstile turnstile,
    RecordingStatistics statistics,
    IEnumerable<IRecordedEventObserver> observers,
    ILogger<EventBatchRecorder> logger)
    : IConsumer<Batch<EventBatch>>
{
    public async Task Consume(ConsumeContext<Batch<EventBatch>> context)
    {
        await readiness.WaitAsync(context.CancellationToken).ConfigureAwait(false);
        var (turn, done) = turnstile.Enter();
        List<JsonEvent> recorded;
        int fresh;
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            recorded = [];
            foreach (var message in context.Message)
            {
                recorded.AddRange(message.Message.ReadJson().Select(JsonEvent.From));
            }

            statistics.Spent(RecordingStage.Decode, started);
            await turn.ConfigureAwait(false);
            started = System.Diagnostics.Stopwatch.GetTimestamp();
            fresh = await recorder.RecordAsync(recorded, context.CancellationToken).ConfigureAwait(false);
            statistics.Spent(RecordingStage.Store, started);
        }
        finally
        {
            done.SetResult();
        }

        var events = recorded.Select(r => r.Event).ToList();
        statistics.Recorded(fresh, events.Count - fresh, events);
        if (fresh < events.Count)
        {
            logger.LogDebug("Skipped {Duplicates} events the store already had", events.Count - fresh);
        }

        var observing = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var observer in observers)
        {
            observer.Observe(events);
        }

        statistics.Spent(RecordingStage.Observe, observing);
    }
}
