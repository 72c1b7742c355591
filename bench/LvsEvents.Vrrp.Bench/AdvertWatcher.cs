using System.Diagnostics;
using System.Net;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Transport;

namespace LvsEvents.Vrrp.Bench;

/// <summary>
/// Listens to VRRP on the LAN from the client's namespace and remembers when the master last advertised, by the
/// kernel's receive timestamp (Stopwatch ticks). Armed with a crash, it runs it on its own thread right after the
/// next advert of the master is read: the same phase, to within a thread's wake-up, for every speaker.
/// </summary>
public sealed class AdvertWatcher : IDisposable
{
    private readonly VrrpSocket _socket;
    private readonly IPAddress _master;
    private readonly Thread _thread;
    private volatile bool _stopped;
    private long _lastTimestamp = -1;
    private (Func<long> Crash, TaskCompletionSource<long> Done)? _armed;
    private readonly Lock _armLock = new();

    public AdvertWatcher(string ns, IPAddress master)
    {
        _master = master;
        _socket = NetworkNamespace.Run(ns, () => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        _thread = new Thread(Listen) { IsBackground = true, Name = "advert watcher", Priority = ThreadPriority.Highest };
        _thread.Start();
    }

    private long _longestGap;

    /// <summary>The longest silence between two of the master's adverts on the LAN so far (a stalled master shows here).</summary>
    public TimeSpan LongestGap => TimeSpan.FromSeconds((double)Interlocked.Read(ref _longestGap) / Stopwatch.Frequency);

    /// <summary>When the master's last advert reached the LAN (Stopwatch ticks), if one did.</summary>
    public long? LastAdvert => Interlocked.Read(ref _lastTimestamp) is var t and >= 0 ? t : null;

    /// <summary>
    /// Runs <paramref name="crash"/> right after the master's next advert is read; the task completes with what it
    /// returned (the crash's start, Stopwatch ticks).
    /// </summary>
    public Task<long> CrashAfterNextAdvert(Func<long> crash)
    {
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_armLock)
            _armed = (crash, done);
        return done.Task;
    }

    private void Listen()
    {
        MeasuringThreadPriority.Raise();
        while (!_stopped)
        {
            try
            {
                if (_socket.Receive(TimeSpan.FromMilliseconds(100)) is not { } packet || !packet.Source.Equals(_master))
                    continue;
                // The kernel's arrival time on the Stopwatch clock: now, less the packet's age by its timestamp.
                var (now, wallNow) = (Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow);
                var age = wallNow - packet.ArrivedAt(wallNow, wallNow);
                var arrived = now - (long)(age.TotalSeconds * Stopwatch.Frequency);
                var previous = Interlocked.Exchange(ref _lastTimestamp, arrived);
                if (previous >= 0 && arrived - previous > Interlocked.Read(ref _longestGap))
                    Interlocked.Exchange(ref _longestGap, arrived - previous);
                (Func<long> Crash, TaskCompletionSource<long> Done)? armed;
                lock (_armLock)
                    (armed, _armed) = (_armed, null);
                if (armed is { } a)
                {
                    try
                    {
                        a.Done.SetResult(a.Crash());
                    }
                    catch (Exception e)
                    {
                        a.Done.SetException(e);
                    }
                }
            }
            catch (Exception) when (_stopped)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _thread.Join(TimeSpan.FromSeconds(1));
        _socket.Dispose();
    }
}
