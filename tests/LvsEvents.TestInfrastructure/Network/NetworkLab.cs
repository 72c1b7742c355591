using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Tmds.Linux;

namespace LvsEvents.TestInfrastructure.Network;

/// <summary>
/// A throwaway LAN made of network namespaces: <c>lvt-XXXXXX-lan</c> holds a bridge, every node gets its own
/// namespace whose <c>eth0</c> is a veth into that bridge, addressed from one 10.213.x.0/24. Nothing is
/// configured outside these namespaces, so no packet can leave them. Dispose kills what the lab started and
/// deletes the namespaces (which destroys the veths and the bridge), whatever state a failed test left.
/// </summary>
/// <remarks>
/// Code of the test process runs "inside" a node through <see cref="InNamespace{T}"/>: a dedicated thread
/// calls setns(CLONE_NEWNET) and runs the code there. Linux gives each thread its own network namespace and a
/// socket keeps the namespace it was created in, so a VrrpSocket opened there keeps working from any thread
/// afterwards, while the test keeps ordinary in-process assertions. A dedicated thread (never a pool thread)
/// means no other code ever runs in a foreign namespace. Other programs (keepalived) run under
/// <c>ip netns exec</c>, which also gives them the namespace's own /sys.
/// </remarks>
public sealed class NetworkLab : IDisposable
{
    public const string Prefix = "lvt-";

    private readonly List<string> _namespaces = [];
    private readonly List<LabProcess> _processes = [];
    private readonly Dictionary<string, LabNode> _nodes = [];
    private bool _disposed;

    public NetworkLab()
    {
        Id = Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        Subnet = RandomNumberGenerator.GetInt32(1, 255);
        LanNamespace = Id + "-lan";
        try
        {
            AddNamespace(LanNamespace);
            // No snooping: the bridge floods VRRP multicast like a plain switch, with or without IGMP.
            Ip($"-n {LanNamespace} link add br0 type bridge mcast_snooping 0");
            Ip($"-n {LanNamespace} link set br0 up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Id { get; }
    public int Subnet { get; }
    public string LanNamespace { get; }
    public IReadOnlyCollection<LabNode> Nodes => _nodes.Values;

    /// <summary>An address of the lab's /24, e.g. for a VIP.</summary>
    public IPAddress Address(int host) => IPAddress.Parse($"10.213.{Subnet}.{host}");

    /// <summary>Adds a node namespace with <c>eth0</c> on the LAN at 10.213.x.<paramref name="host"/>/24.</summary>
    public LabNode AddNode(string name, int host)
    {
        var ns = $"{Id}-{name}";
        AddNamespace(ns);
        var port = $"v{name}";
        Ip($"-n {LanNamespace} link add {port} type veth peer name eth0 netns {ns}");
        Ip($"-n {LanNamespace} link set {port} master br0 up");
        Ip($"-n {ns} link set lo up");
        Ip($"-n {ns} addr add {Address(host)}/24 dev eth0");
        Ip($"-n {ns} link set eth0 up");
        var node = new LabNode(this, name, ns, Address(host));
        _nodes.Add(name, node);
        return node;
    }

    /// <summary>Starts <paramref name="command"/> inside <paramref name="ns"/>; the lab kills it on Dispose.</summary>
    public LabProcess Start(string ns, string command, params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["netns", "exec", ns, command, .. arguments])
        {
            info.ArgumentList.Add(a);
        }
        var process = new LabProcess(Process.Start(info) ?? throw new InvalidOperationException($"cannot start {command}"),
            $"{command} in {ns}");
        _processes.Add(process);
        return process;
    }

    /// <summary>Runs <paramref name="action"/> on a dedicated thread that has entered <paramref name="ns"/>.</summary>
    public static T InNamespace<T>(string ns, Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var target = File.OpenHandle($"/run/netns/{ns}");
                if (LibC.setns((int)target.DangerousGetHandle(), LibC.CLONE_NEWNET) != 0)
                {
                    throw new InvalidOperationException($"setns into {ns} failed: errno {LibC.errno}");
                }
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
            // The thread ends here, taking its namespace with it; nothing else ever runs on it.
        }) { IsBackground = true, Name = $"netns {ns}" };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        return result;
    }

    /// <summary>The IPv4 addresses on <paramref name="device"/> in <paramref name="ns"/>, as <c>ip -n NS addr</c> lists them.</summary>
    public static IReadOnlyList<IPAddress> Addresses(string ns, string device = "eth0")
    {
        var output = Run("ip", $"-n {ns} -4 -o addr show dev {device}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(f => f[Array.IndexOf(f, "inet") + 1].Split('/')[0])
            .Select(IPAddress.Parse)
            .ToList();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var process in _processes)
        {
            try
            {
                process.Dispose();
            }
            catch (Exception)
            {
                // Teardown goes on: the namespace sweep below kills whatever survived.
            }
        }
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            // Anything still alive in our namespace was started by this lab (e.g. a keepalived child whose
            // parent was killed): kill it, or the namespace would outlive its name.
            TryRun("ip", $"netns pids {ns}", out var pids);
            foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(pid, out var id))
                {
                    LibC.kill(id, LibC.SIGKILL);
                }
            }
            TryRun("ip", $"netns del {ns}", out _);
        }
    }

    private void AddNamespace(string ns)
    {
        if (!TryRun("ip", $"netns add {ns}", out var output))
        {
            throw new InvalidOperationException(
                $"NetworkLab needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2 to create network namespaces; " +
                $"`ip netns add {ns}` failed: {output.Trim()}");
        }
        _namespaces.Add(ns);
    }

    private static void Ip(string arguments) => Run("ip", arguments);

    public static string Run(string file, string arguments)
        => TryRun(file, arguments, out var output)
            ? output
            : throw new InvalidOperationException($"`{file} {arguments}` failed: {output.Trim()}");

    private static bool TryRun(string file, string arguments, out string output)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(10_000))
        {
            process.Kill(true);
            output = $"timed out after 10 s";
            return false;
        }
        output = stdout.Result + stderr.Result;
        return process.ExitCode == 0;
    }
}

public sealed record LabNode(NetworkLab Lab, string Name, string Namespace, IPAddress Address)
{
    public IReadOnlyList<IPAddress> Addresses() => NetworkLab.Addresses(Namespace);

    public T Run<T>(Func<T> action) => NetworkLab.InNamespace(Namespace, action);

    public LabProcess Start(string command, params string[] arguments) => Lab.Start(Namespace, command, arguments);
}

/// <summary>A process the lab started; its output lines are kept for assertions and failure messages.</summary>
public sealed class LabProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    public LabProcess(Process process, string description)
    {
        _process = process;
        Description = description;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Description { get; }
    public int Id => _process.Id;
    public bool HasExited => _exitedAtDispose ?? _process.HasExited;
    public IReadOnlyList<string> Output => _lines.ToArray();
    public string OutputText => string.Join('\n', _lines);

    private bool? _exitedAtDispose;

    public void Dispose()
    {
        if (_exitedAtDispose is not null)
        {
            return;
        }
        if (!_process.HasExited)
        {
            // SIGTERM first so keepalived removes its VIPs and stops its child; SIGKILL if it does not.
            LibC.kill(_process.Id, LibC.SIGTERM);
            if (!_process.WaitForExit(3_000))
            {
                _process.Kill(true);
                _process.WaitForExit(3_000);
            }
        }
        _exitedAtDispose = _process.HasExited;
        _process.Dispose();
    }
}
