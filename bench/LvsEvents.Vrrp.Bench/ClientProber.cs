using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LvsEvents.Netlink;

namespace LvsEvents.Vrrp.Bench;

/// <summary>
/// A client in its own namespace opening a TCP connection to the VIP every 10 ms (each attempt on its own,
/// with a 500 ms timeout), remembering when every successful attempt started (Stopwatch ticks).
/// </summary>
public sealed class ClientProber(string ns, IPEndPoint target)
{
    private readonly ConcurrentBag<long> _successes = [];

    public int Successes => _successes.Count;

    public long? FirstSuccessStartedAfter(long timestamp)
    {
        var after = _successes.Where(s => s >= timestamp).ToList();
        return after.Count == 0 ? null : after.Min();
    }

    public async Task RunAsync(TimeSpan every, CancellationToken token)
    {
        var attempts = new List<Task>();
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                attempts.Add(AttemptAsync(token));
                // Bounded: at most 500 ms of attempts are ever outstanding.
                attempts.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAll(attempts).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task AttemptAsync(CancellationToken token)
    {
        var started = Stopwatch.GetTimestamp();
        using var socket = NetworkNamespace.Run(ns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(500));
        try
        {
            await socket.ConnectAsync(target, timeout.Token);
            _successes.Add(started);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
        }
    }
}
