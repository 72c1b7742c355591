using System.Collections.Concurrent;
using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.Eventing;

namespace LvsEvents.Recovery.Tests;

/// <summary>
/// The writer programs its table before its bus is up (it keeps working without the bus), so "the table is
/// programmed" does not mean its queue exists yet; a command published before that has nowhere to go. This asks it to
/// restore a real server of a virtual service nobody configures (TEST-NET-1; a command, no traffic) until its log shows the command.
/// </summary>
public static class WriterQueueProbe
{
    public static async Task WaitBoundAsync(IEventEmitter emitter, ConcurrentQueue<string> log, Process writer)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(45))
        {
            if (writer.HasExited)
            {
                throw new InvalidOperationException("the writer exited");
            }

            var ping = new RestoreCommand
            {
                EventId = Guid.CreateVersion7(),
                RealServer = new RealServerRef(VirtualServiceRef.Tcp("192.0.2.1", 80), "192.0.2.2", 80),
                RequestedBy = "queue-probe", Reason = "is the writer's queue bound?",
            };
            await emitter.EmitAsync(ping);
            for (var wait = 0; wait < 10; wait++)
            {
                if (Took(log, ping.EventId))
                {
                    return;
                }

                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException("the writer's queue never took a command in 45 s");
    }

    /// <summary>The writer logged that it handled the event (a kernel change, or a command taken without one).</summary>
    public static bool Took(ConcurrentQueue<string> log, Guid eventId)
    {
        var id = eventId.ToString();
        return log.Any(line => line.StartsWith("writer: ", StringComparison.Ordinal) && line.Contains(id, StringComparison.Ordinal));
    }
}
