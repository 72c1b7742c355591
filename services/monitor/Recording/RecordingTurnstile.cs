namespace LvsEvents.Monitor.Recording;

/// <summary>
/// Lets two batches be prepared at once while their writes to the store still happen one after the other,
/// in the order the batches arrived: parsing the next batch overlaps the previous one's database write.
/// </summary>
public sealed class RecordingTurnstile
{
    private readonly object _gate = new();
    private Task _previous = Task.CompletedTask;

    /// <summary>Takes the next place in line: <c>Turn</c> completes when the previous holder is done.</summary>
    public (Task Turn, TaskCompletionSource Done) Enter()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var turn = _previous;
            _previous = done.Task;
            return (turn, done);
        }
    }
}
