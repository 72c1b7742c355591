using LvsEvents.Contracts;
using MassTransit;

namespace LvsEvents.Eventing;

/// <summary>How a batch goes on the bus: the whole batch for the store and the watchers, then its commands, if any, for the services that act on them.</summary>
public static class EventBatchPublishing
{
    /// <summary>
    /// Publishes <paramref name="batch"/> and then its <see cref="CommandBatch"/>. A retry after a failure between the
    /// two publishes both again: consumers of either take an event id they have seen as a repeat.
    /// </summary>
    public static async Task PublishWithCommandsAsync(this IPublishEndpoint bus, EventBatch batch, CancellationToken cancellationToken)
    {
        await bus.Publish(batch, cancellationToken).ConfigureAwait(false);
        if (CommandBatch.Of(batch) is { } commands)
            await bus.Publish(commands, cancellationToken).ConfigureAwait(false);
    }
}
