using MassTransit;

namespace LvsEvents.Monitor.Recording;

/// <summary>The recorder's queue and how it takes messages from it.</summary>
public static class RecorderEndpoint
{
    /// <summary>Shared by every monitor: two directors' monitors compete on it, so each event is stored once.</summary>
    public const string QueueName = "lvs-monitor-recorder";

    public static void AddRecorder(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<EventBatchRecorder>(consumer =>
        {
            consumer.Options<BatchOptions>(batch => batch
                .SetMessageLimit(20)
                .SetTimeLimit(TimeSpan.FromMilliseconds(20))
                .SetConcurrencyLimit(2)); // prepared two at a time, written in order (RecordingTurnstile)
            // While PostgreSQL is away the messages wait in the queue (never in an error queue): retry for
            // as long as it takes. Anything else gets a few tries, then MassTransit's _error queue keeps it.
            consumer.UseMessageRetry(retry =>
            {
                retry.Handle<Exception>(TransientStoreFailure.Matches);
                retry.Exponential(int.MaxValue, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500));
            });
            consumer.UseMessageRetry(retry => retry.Intervals(100, 500, 2000));
        }).Endpoint(endpoint =>
        {
            endpoint.Name = QueueName;
            endpoint.PrefetchCount = 60;
        });
    }
}
