using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace LvsEvents.Recovery.Tests;

/// <summary>
/// A director with a client and three real servers, made of network namespaces this test creates (prefix
/// <c>lvk-XXXXXX-</c>; nothing outside them is touched, no packet can leave them):
/// <code>
///  cli (10.216.S.2) ── veth ── dir (10.216.S.1, VIP 10.216.S.100; 10.217.S.1, the nft table, conntrack)
///                                 │ veth
///                  lan: bridge ───┴── rs1 10.217.S.11, rs2 .12, rs3 .13 (each its own namespace, default route via dir)
/// </code>
/// Each real server accepts on 8080 (and closes at once). Dispose stops the listeners and client traffic and deletes
/// the namespaces (veths, bridge, nft tables and conntrack go with them), also after a failed test.
/// </summary>
public sealed class CanaryTrafficLab : IDisposable
{
    public const string Prefix = "lvk-";
    private readonly List<string> _namespaces = [];
    private readonly List<Listener> _listeners = [];
    private bool _disposed;

    public CanaryTrafficLab()
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

            for (var i = 1; i <= 3; i++)
            {
                var ns = Add($"rs{i}");
                Ip($"-n {lan} link add vrs{i} type veth peer name eth0 netns {ns}");
                Ip($"-n {lan} link set vrs{i} master br0 up");
                Ip($"-n {ns} addr add {RealServer(i)}/24 dev eth0");
                Ip($"-n {ns} link set eth0 up");
                Ip($"-n {ns} route add default via {DirectorServerSide}");
                RealServerNamespaces.Add(ns);
                _listeners.Add(new Listener(ns, IPAddress.Parse(RealServer(i)), 8080));
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

    public string ClientAddress => $"10.216.{Subnet}.2";
    public string ClientSubnet => $"10.216.{Subnet}.0/24";
    public string DirectorClientSide => $"10.216.{Subnet}.1";
    public string Vip => $"10.216.{Subnet}.100";
    public string DirectorServerSide => $"10.217.{Subnet}.1";
    public string RealServer(int i) => $"10.217.{Subnet}.{10 + i}";

    /// <summary>Connections real server <paramref name="i"/> accepted.</summary>
    public long Accepted(int i) => _listeners[i - 1].Accepted;

    /// <summary>
    /// Makes real server <paramref name="i"/> drop what the client subnet sends to port 8080, as a firewall on the server
    /// would; its health checker (the director's own address) still gets in.
    /// </summary>
    public void DropClients(int i, int port)
    {
        var ns = RealServerNamespaces[i - 1];
        Run("ip", $"netns exec {ns} nft add table inet lvk");
        Run("ip", $"netns exec {ns} nft add chain inet lvk input {{ type filter hook input priority 0 ; }}");
        Run("ip", $"netns exec {ns} nft add rule inet lvk input ip saddr {ClientSubnet} tcp dport {port} drop");
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var listener in _listeners)
        {
            listener.Dispose();
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

    /// <summary>Moves the calling thread (a dedicated one, never a pool thread) into <paramref name="ns"/>.</summary>
    public static void Enter(string ns)
    {
        using var target = File.OpenHandle($"/run/netns/{ns}");
        if (SetNs((int)target.DangerousGetHandle(), 0x40000000) != 0)
        {
            throw new InvalidOperationException($"setns into {ns} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private string Add(string name)
    {
        var ns = $"{Id}-{name}";
        if (!TryRun("ip", $"netns add {ns}", out var output))
        {
            throw new InvalidOperationException($"the lab needs root and iproute2 to create network namespaces; `ip netns add {ns}` failed: {output.Trim()}");
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

    /// <summary>A real server's service: accepts every connection and closes it (the handshake is all the test needs).</summary>
    private sealed class Listener : IDisposable
    {
        private readonly Socket _socket;
        private readonly Task _loop;
        private long _accepted;

        public Listener(string ns, IPAddress address, int port)
        {
            _socket = LvsEvents.Netlink.NetworkNamespace.Run(ns, () =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(1024);
                return socket;
            });
            _loop = Task.Run(AcceptLoop);
        }

        public long Accepted => Interlocked.Read(ref _accepted);

        private async Task AcceptLoop()
        {
            while (true)
            {
                try
                {
                    using var connection = await _socket.AcceptAsync();
                    Interlocked.Increment(ref _accepted);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException) when (!_socket.IsBound)
                {
                    return;
                }
                catch (SocketException)
                {
                    // A connection reset before it was accepted: the next one.
                }
            }
        }

        public void Dispose()
        {
            _socket.Dispose();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}

/// <summary>
/// Client traffic through the VIP: from a dedicated thread in the client namespace, a new connection every
/// <c>period</c>; each waits at most <see cref="Timeout"/> for the handshake, then closes (with a reset when answered).
/// Counts answered and unanswered connections with when each was started and decided. Bounded: stops on Dispose.
/// </summary>
public sealed class ClientTraffic : IDisposable
{
    /// <summary>Generous: on a loaded machine a completed handshake can take a while to be reported to this process.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly Lock _gate = new();
    private readonly List<Outcome> _outcomes = [];
    private int _pending;

    public ClientTraffic(string ns, string host, int port, TimeSpan period)
    {
        var target = new IPEndPoint(IPAddress.Parse(host), port);
        _thread = new Thread(() =>
        {
            CanaryTrafficLab.Enter(ns);
            while (!_stop.IsCancellationRequested)
            {
                Open(target);
                _stop.Token.WaitHandle.WaitOne(period);
            }
        }) { IsBackground = true, Name = $"clients in {ns}" };
        _thread.Start();
    }

    /// <summary>One connection: when it was opened, when it was decided, whether the handshake completed, else why not.</summary>
    public sealed record Outcome(DateTimeOffset Started, DateTimeOffset At, bool Answered, string? Error);

    public IReadOnlyList<Outcome> Outcomes
    {
        get
        {
            lock (_gate)
            {
                return [.. _outcomes];
            }
        }
    }

    private void Open(IPEndPoint target)
    {
        // Made on this thread, so in the client namespace; the connect completes wherever.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { LingerState = new LingerOption(true, 0) };
        var timeout = new CancellationTokenSource(Timeout);
        var started = DateTimeOffset.UtcNow;
        Interlocked.Increment(ref _pending);
        _ = socket.ConnectAsync(target, timeout.Token).AsTask().ContinueWith(t =>
        {
            lock (_gate)
            {
                _outcomes.Add(new Outcome(started, DateTimeOffset.UtcNow, t.IsCompletedSuccessfully,
                    t.IsCanceled ? "timeout" : t.Exception?.InnerException?.Message));
            }

            socket.Dispose();
            timeout.Dispose();
            Interlocked.Decrement(ref _pending);
        }, TaskScheduler.Default);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(5));
        // Every connect ends within its timeout.
        for (var i = 0; i < 40 && Volatile.Read(ref _pending) > 0; i++)
        {
            Thread.Sleep(50);
        }

        _stop.Dispose();
    }
}
