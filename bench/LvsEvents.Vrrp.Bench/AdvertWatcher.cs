using System.Diagnostics;
using System.Net;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Transport;

namespace LvsEvents.Vrrp.Bench;

/// <summary>Listens to VRRP on the LAN from the client's namespace and remembers when the master last advertised.</summary>
public sealed class AdvertWatcher : IDisposable
{
    private readonly VrrpSocket _socket;
    private readonly IPAddress _master;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Thread _thread;
    private volatile bool _stopped;
    private long _lastTicks = -1;

    public AdvertWatcher(string ns, IPAddress master)
    {
        _master = master;
        _socket = NetworkNamespace.Run(ns, () => VrrpSocket.Open(new VrrpSocketOptions { InterfaceName = "eth0" }));
        _thread = new Thread(Listen) { IsBackground = true, Name = "advert watcher" };
        _thread.Start();
    }

    public TimeSpan Now => _clock.Elapsed;

    public TimeSpan? LastAdvert => Interlocked.Read(ref _lastTicks) is var t and >= 0 ? TimeSpan.FromTicks(t) : null;

    private void Listen()
    {
        while (!_stopped)
        {
            try
            {
                if (_socket.Receive(TimeSpan.FromMilliseconds(100)) is { } packet && packet.Source.Equals(_master))
                    Interlocked.Exchange(ref _lastTicks, _clock.Elapsed.Ticks);
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
