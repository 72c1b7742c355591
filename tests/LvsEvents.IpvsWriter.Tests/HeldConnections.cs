using System.Net;
using System.Net.Sockets;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>A TCP server in a real server's namespace that accepts connections and keeps them open until disposed.</summary>
public sealed class HoldingServer : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _accepted = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public HoldingServer(string ns, int port)
    {
        _listener = WriterLab.InNamespace(ns, () =>
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(IPAddress.Any, port));
            listener.Listen(512);
            return listener;
        });
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var connection = await _listener.AcceptAsync(_stop.Token);
                    lock (_accepted)
                    {
                        _accepted.Add(connection);
                    }
                }
                catch (Exception)
                {
                    return;
                }
            }
        });
    }

    public int Held
    {
        get
        {
            lock (_accepted)
            {
                return _accepted.Count;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _loop.Wait(2000);
        lock (_accepted)
        {
            foreach (var s in _accepted)
            {
                s.Dispose();
            }
        }

        _stop.Dispose();
    }
}

/// <summary>Client connections opened from the lab's client namespace and held open until closed (with a FIN, not a reset).</summary>
public sealed class HeldConnections : IDisposable
{
    private readonly List<Socket> _sockets = [];

    public HeldConnections(string clientNamespace, string host, int port, int count)
    {
        // Sockets keep the namespace they were made in; connecting can happen anywhere.
        var sockets = WriterLab.InNamespace(clientNamespace, () =>
            Enumerable.Range(0, count).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToList());
        _sockets.AddRange(sockets);
        foreach (var socket in sockets)
        {
            var connect = socket.ConnectAsync(IPAddress.Parse(host), port);
            if (!connect.Wait(2000))
            {
                throw new TimeoutException($"connection to {host}:{port} timed out");
            }

            socket.Send("hello\n"u8);
        }
    }

    public int Count => _sockets.Count;

    /// <summary>Closes every connection with a FIN: each leaves ESTABLISHED (active) for a closing state (inactive).</summary>
    public void Close()
    {
        foreach (var socket in _sockets)
        {
            socket.Shutdown(SocketShutdown.Both);
            socket.Close();
        }
    }

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }
}
