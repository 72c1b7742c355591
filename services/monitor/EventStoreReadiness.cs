namespace LvsEvents.Monitor;

/// <summary>
/// Completes once the store's schema exists. The recorder waits for it, so messages already queued when a
/// fresh monitor starts are not tried against tables that are still being created.
/// </summary>
public sealed class EventStoreReadiness
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    internal void Ready() => _ready.TrySetResult();
}
