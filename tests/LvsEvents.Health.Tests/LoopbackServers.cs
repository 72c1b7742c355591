using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace LvsEvents.Health.Tests;

/// <summary>Real servers on loopback addresses, started by the tests and stopped when disposed.</summary>
internal static class Loopback
{
    private static int _next = Random.Shared.Next(2, 200);

    /// <summary>A loopback address of its own for each server (127.77.x.y), so that tests do not share one.</summary>
    public static IPAddress NewAddress()
    {
        var n = Interlocked.Increment(ref _next);
        return new IPAddress([127, 77, (byte)(n / 250 % 250), (byte)((n % 250) + 2)]);
    }

    /// <summary>A port nothing listens on: bound, then released.</summary>
    public static IPEndPoint ClosedTcpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(NewAddress(), 0));
        return (IPEndPoint)socket.LocalEndPoint!;
    }

    public static IPEndPoint ClosedUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(NewAddress(), 0));
        return (IPEndPoint)socket.LocalEndPoint!;
    }
}

/// <summary>A TCP server whose per-connection behaviour a test chooses; stops accepting (port closed) on <see cref="Stop"/>.</summary>
internal abstract class LoopbackTcpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private Socket? _listener;

    protected LoopbackTcpServer(IPEndPoint? at = null)
    {
        _listener = Listen(at ?? new IPEndPoint(Loopback.NewAddress(), 0));
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint Endpoint { get; }

    public int Connections => Volatile.Read(ref _connections);

    private int _connections;

    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Closes the listening socket: new connections are refused from now on.</summary>
    public void Stop()
    {
        Interlocked.Exchange(ref _listener, null)?.Dispose();
    }

    /// <summary>Listens again on the same address and port.</summary>
    public void Restart()
    {
        Volatile.Write(ref _listener, Listen(Endpoint));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Stop();
        try
        {
            await _accepting.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    protected abstract Task ServeAsync(Socket connection, CancellationToken cancellationToken);

    private static Socket Listen(IPEndPoint at)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(at);
        socket.Listen(512);
        return socket;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var listener = Volatile.Read(ref _listener);
            if (listener is null)
            {
                await Task.Delay(20);
                continue;
            }

            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                continue; // stopped; maybe restarted
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = Task.Run(async () =>
            {
                using (connection)
                {
                    try
                    {
                        await ServeAsync(connection, _stop.Token);
                    }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
                    {
                    }
                }
            });
        }
    }
}

/// <summary>Accepts and never answers (keeps the connection open until stopped).</summary>
internal sealed class HangingTcpServer : LoopbackTcpServer
{
    protected override Task ServeAsync(Socket connection, CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
}

/// <summary>An HTTP/1.0 server answering every request with the status and body the test sets; with a certificate, over TLS.</summary>
internal sealed class TestHttpServer(X509Certificate2? certificate = null) : LoopbackTcpServer
{
    public volatile int Status = 200;
    public volatile string Body = "ok\n";
    public volatile string? LastRequest;

    /// <summary>Accept and never answer, as a wedged application does.</summary>
    public volatile bool Hang;

    public static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=lvs-health-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    protected override async Task ServeAsync(Socket connection, CancellationToken cancellationToken)
    {
        Stream stream = new NetworkStream(connection, ownsSocket: false);
        if (certificate is not null)
        {
            var ssl = new SslStream(stream);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, cancellationToken);
            stream = ssl;
        }

        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        await using (stream)
        {
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            LastRequest = request.ToString();
            var body = Encoding.UTF8.GetBytes(Body);
            var head = Encoding.ASCII.GetBytes($"HTTP/1.0 {Status} Test\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(head, cancellationToken);
            await stream.WriteAsync(body, cancellationToken);
        }
    }
}

/// <summary>A minimal SMTP server: greeting, HELO, QUIT; the greeting code is the test's choice.</summary>
internal sealed class TestSmtpServer : LoopbackTcpServer
{
    public volatile int Greeting = 220;
    public volatile string? LastHelo;

    protected override async Task ServeAsync(Socket connection, CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync($"{Greeting} test ESMTP");
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("HELO ", StringComparison.OrdinalIgnoreCase))
            {
                LastHelo = line[5..];
                await writer.WriteLineAsync("250-test greets you");
                await writer.WriteLineAsync("250 ok");
            }
            else if (line.StartsWith("QUIT", StringComparison.OrdinalIgnoreCase))
            {
                await writer.WriteLineAsync("221 bye");
                return;
            }
        }
    }
}

/// <summary>A UDP echo server.</summary>
internal sealed class UdpEchoServer : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public UdpEchoServer()
    {
        _socket.Bind(new IPEndPoint(Loopback.NewAddress(), 0));
        Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(async () =>
        {
            var buffer = new byte[2048];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, from, _stop.Token);
                    await _socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), SocketFlags.None, received.RemoteEndPoint, _stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    if (_stop.IsCancellationRequested)
                    {
                        return;
                    }
                }
            }
        });
    }

    public IPEndPoint Endpoint { get; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}

/// <summary>dnsmasq answering for one zone on a loopback address and port of its own (no upstream, no hosts file).</summary>
internal sealed class Dnsmasq : IDisposable
{
    private readonly Process _process;

    private Dnsmasq(Process process, IPEndPoint endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public static async Task<Dnsmasq> StartAsync(string name, IPAddress answer)
    {
        var address = Loopback.NewAddress();
        var port = Loopback.ClosedUdpPort().Port;
        var start = new ProcessStartInfo("dnsmasq")
        {
            ArgumentList =
            {
                "--keep-in-foreground", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
                "--bind-interfaces", $"--listen-address={address}", $"--port={port}", "--pid-file=", "--user=root", "--log-facility=-",
                $"--address=/{name}/{answer}",
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("dnsmasq did not start");
        var server = new Dnsmasq(process, new IPEndPoint(address, port));
        // Ready when it answers.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var probe = new Checking.DnsProbe(new Checking.ProbeTarget(server.Endpoint, null, null, TimeSpan.FromMilliseconds(200)), "A", name);
        while (!(await probe.ProbeAsync(CancellationToken.None)).Success)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var error = process.HasExited ? await process.StandardError.ReadToEndAsync() : "no answer in 10 s";
                server.Dispose();
                throw new InvalidOperationException($"dnsmasq did not come up: {error}");
            }

            await Task.Delay(50);
        }

        return server;
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
