using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>
/// A throwaway director setup made of network namespaces (prefix <c>lvw-XXXXXX-</c>, nothing outside them is touched):
/// <code>
///  client (10.214.S.2 + extra sources) ── veth ── director (10.214.S.1, VIP 10.214.S.100; 10.215.S.1, nft table)
///                                                    │ veth
///                                  lan: bridge br0 ──┼── rs1 10.215.S.11, rs2 .12, rs3 .13 (default route via director)
/// </code>
/// Dispose stops the servers, kills anything left in the namespaces and deletes them (veths, bridge and the nft
/// table go with them), also after a failed test.
/// </summary>
public sealed class WriterLab : IDisposable
{
    public const string Prefix = "lvw-";
    private readonly List<string> _namespaces = [];
    private readonly List<HttpServer> _servers = [];
    private bool _disposed;

    public WriterLab(int realServers = 3, int extraClientSources = 0)
    {
        Id = Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        Subnet = RandomNumberGenerator.GetInt32(1, 255);
        try
        {
            Director = Add("dir");
            Client = Add("cli");
            var lan = Add("lan");
            Ip($"-n {lan} link add br0 type bridge");
            Ip($"-n {lan} link set br0 up");

            Ip($"-n {Client} link add eth0 type veth peer name ethc netns {Director}");
            Ip($"-n {Client} addr add {ClientAddress}/24 dev eth0");
            for (var i = 0; i < extraClientSources; i++)
            {
                Ip($"-n {Client} addr add {ClientSource(i)}/24 dev eth0");
            }

            Ip($"-n {Client} link set eth0 up");
            Ip($"-n {Client} route add default via {DirectorClientSide}");
            Ip($"-n {Director} addr add {DirectorClientSide}/24 dev ethc");
            Ip($"-n {Director} addr add {Vip}/24 dev ethc");
            Ip($"-n {Director} link set ethc up");

            Ip($"-n {Director} link add eths type veth peer name vdir netns {lan}");
            Ip($"-n {lan} link set vdir master br0 up");
            Ip($"-n {Director} addr add {DirectorServerSide}/24 dev eths");
            Ip($"-n {Director} link set eths up");
            Run("ip", $"netns exec {Director} sysctl -qw net.ipv4.ip_forward=1");

            for (var i = 1; i <= realServers; i++)
            {
                var ns = Add($"rs{i}");
                Ip($"-n {lan} link add vrs{i} type veth peer name eth0 netns {ns}");
                Ip($"-n {lan} link set vrs{i} master br0 up");
                Ip($"-n {ns} addr add {RealServer(i)}/24 dev eth0");
                Ip($"-n {ns} link set eth0 up");
                Ip($"-n {ns} route add default via {DirectorServerSide}");
                RealServerNamespaces.Add(ns);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Id { get; }
    public int Subnet { get; }
    public string Director { get; }
    public string Client { get; }
    public List<string> RealServerNamespaces { get; } = [];

    public string ClientAddress => $"10.214.{Subnet}.2";
    public string DirectorClientSide => $"10.214.{Subnet}.1";
    public string Vip => $"10.214.{Subnet}.100";
    public string DirectorServerSide => $"10.215.{Subnet}.1";
    public string ClientSource(int i) => $"10.214.{Subnet}.{20 + i}";
    public string RealServer(int i) => $"10.215.{Subnet}.{10 + i}";

    /// <summary>Starts a tiny HTTP server in real server <paramref name="i"/>'s namespace that answers its own name.</summary>
    public HttpServer StartHttp(int i, int port)
    {
        var server = InNamespace(RealServerNamespaces[i - 1], () => new HttpServer($"rs{i}", port));
        _servers.Add(server);
        return server;
    }

    /// <summary>
    /// Opens <paramref name="count"/> short connections from the client namespace to <paramref name="host"/>:<paramref name="port"/>,
    /// each from <paramref name="source"/> (or the default address), and returns the name of the server that answered each.
    /// Bounded: every connection has a 2 s timeout.
    /// </summary>
    public IReadOnlyList<string> Fetch(string host, int port, int count, string? source = null) => InNamespace(Client, () =>
    {
        var answers = new List<string>(count);
        var buffer = new byte[256];
        var request = Encoding.ASCII.GetBytes($"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n");
        for (var n = 0; n < count; n++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.SendTimeout = socket.ReceiveTimeout = 2000;
            socket.LingerState = new LingerOption(true, 0);
            if (source is not null)
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
            }

            var connect = socket.ConnectAsync(IPAddress.Parse(host), port);
            if (!connect.Wait(2000))
            {
                throw new TimeoutException($"connection {n} to {host}:{port} timed out");
            }

            socket.Send(request);
            var response = new StringBuilder();
            int read;
            while ((read = socket.Receive(buffer)) > 0)
            {
                response.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var text = response.ToString();
            answers.Add(text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        }

        return answers;
    });

    public string Nft(string arguments) => Run("ip", $"netns exec {Director} nft {arguments}");

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            TryRun("ip", $"netns pids {ns}", out var pids);
            foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(pid, out var id) && id != Environment.ProcessId)
                {
                    Kill(id, 9);
                }
            }

            TryRun("ip", $"netns del {ns}", out _);
        }
    }

    /// <summary>Runs <paramref name="action"/> on a dedicated thread that entered <paramref name="ns"/> (sockets made there stay there).</summary>
    public static T InNamespace<T>(string ns, Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var target = File.OpenHandle($"/run/netns/{ns}");
                if (SetNs((int)target.DangerousGetHandle(), 0x40000000) != 0)
                {
                    throw new InvalidOperationException($"setns into {ns} failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = $"netns {ns}" };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        return result;
    }

    private string Add(string name)
    {
        var ns = $"{Id}-{name}";
        if (!TryRun("ip", $"netns add {ns}", out var output))
        {
            throw new InvalidOperationException($"WriterLab needs root and iproute2 to create network namespaces; `ip netns add {ns}` failed: {output.Trim()}");
        }

        _namespaces.Add(ns);
        Ip($"-n {ns} link set lo up");
        return ns;
    }

    private static void Ip(string arguments) => Run("ip", arguments);

    public static string Run(string file, string arguments) =>
        TryRun(file, arguments, out var output) ? output : throw new InvalidOperationException($"`{file} {arguments}` failed: {output.Trim()}");

    private static bool TryRun(string file, string arguments, out string output)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(10_000))
        {
            process.Kill(true);
            output = "timed out after 10 s";
            return false;
        }

        output = stdout.Result + stderr.Result;
        return process.ExitCode == 0;
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}

/// <summary>An HTTP/1.0 server answering its name to every request; counts connections per client address.</summary>
public sealed class HttpServer : IDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, int> _bySource = [];
    private readonly Task _loop;

    public HttpServer(string name, int port)
    {
        Name = name;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(IPAddress.Any, port));
        _listener.Listen(512);
        _loop = Task.Run(AcceptLoop);
    }

    public string Name { get; }

    public int Connections
    {
        get
        {
            lock (_bySource)
            {
                return _bySource.Values.Sum();
            }
        }
    }

    private async Task AcceptLoop()
    {
        var body = Encoding.ASCII.GetBytes(Name);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (connection)
                {
                    try
                    {
                        var source = ((IPEndPoint)connection.RemoteEndPoint!).Address.ToString();
                        lock (_bySource)
                        {
                            _bySource[source] = _bySource.GetValueOrDefault(source) + 1;
                        }

                        var buffer = new byte[1024];
                        var seen = new StringBuilder();
                        using var timeout = new CancellationTokenSource(2000);
                        while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                        {
                            var read = await connection.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                            if (read == 0)
                            {
                                return;
                            }

                            seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
                        }

                        await connection.SendAsync(head, SocketFlags.None);
                        await connection.SendAsync(body, SocketFlags.None);
                        connection.Shutdown(SocketShutdown.Both);
                    }
                    catch (Exception)
                    {
                        // A client that went away: nothing to count beyond the connection.
                    }
                }
            });
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _loop.Wait(2000);
        _stop.Dispose();
    }
}
