using System.Net;
using System.Net.Sockets;

namespace LvsEvents.Health.Bench;

/// <summary>
/// The real servers of the benchmark, in a process of their own (so that their CPU is not counted as the checker's):
/// one listener per real server on its own 127.0.0.0/8 address. TCP servers accept and close; HTTP servers read the
/// request and answer 200 with a short body. Prints "ready", then the number of accepted connections (all, HTTP) for every line
/// read on stdin, and exits when stdin closes.
/// </summary>
internal static class BenchServers
{
    public const int TcpPort = 18080;
    public const int HttpPort = 18081;
    private static readonly byte[] Response = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n"u8.ToArray();
    private static long _accepted;
    private static long _acceptedHttp;

    /// <summary>Real server <paramref name="index"/>: 127.80.x.y, TCP for the first half, HTTP for the second.</summary>
    public static IPEndPoint Endpoint(int index, int count) =>
        new(new IPAddress([127, 80, (byte)(index / 250), (byte)((index % 250) + 2)]), index < count / 2 ? TcpPort : HttpPort);

    public static async Task<int> RunAsync(int count)
    {
        var listeners = new List<Socket>(count);
        for (var i = 0; i < count; i++)
        {
            var endpoint = Endpoint(i, count);
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(64);
            listeners.Add(socket);
            var http = endpoint.Port == HttpPort;
            _ = Task.Run(() => AcceptLoopAsync(socket, http));
        }

        Console.WriteLine("ready");
        while (await Console.In.ReadLineAsync() is not null)
        {
            Console.WriteLine($"{Interlocked.Read(ref _accepted)} {Interlocked.Read(ref _acceptedHttp)}");
        }

        listeners.ForEach(l => l.Dispose());
        return 0;
    }

    private static async Task AcceptLoopAsync(Socket listener, bool http)
    {
        var buffer = new byte[1024];
        while (true)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            if (http)
            {
                Interlocked.Increment(ref _acceptedHttp);
            }
            else
            {
                connection.Dispose();
                continue;
            }

            _ = ServeAsync(connection, buffer.Length);
        }
    }

    private static async Task ServeAsync(Socket connection, int bufferSize)
    {
        using (connection)
        {
            try
            {
                var buffer = new byte[bufferSize];
                var filled = 0;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                while (buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) < 0 && filled < buffer.Length)
                {
                    var read = await connection.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                }

                await connection.SendAsync(Response, SocketFlags.None, timeout.Token);
                connection.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }
}
