using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using LvsEvents.TestInfrastructure.Network;
using Tmds.Linux;

namespace LvsEvents.TestInfrastructure.Vrrp;

/// <summary>What a lab node runs: ours (lvs-vrrp) or Debian's keepalived; both own the VIP on the node's eth0.</summary>
public interface IVrrpSpeakerProcess : IAsyncDisposable
{
    LabNode Node { get; }
    VrrpPeerSettings Settings { get; }
    int ProcessId { get; }
    bool HasExited { get; }
    string OutputText { get; }
}

public static class VrrpSpeakerProcessExtensions
{
    extension(IVrrpSpeakerProcess speaker)
    {
        public bool HoldsVip => speaker.Node.Addresses().Contains(speaker.Settings.Vip);

        public void Signal(int signal) => LibC.kill(speaker.ProcessId, signal);
    }
}

/// <summary>
/// lvs-vrrp as its own process, in the test's (root) namespace so it reaches the real bus, speaking VRRP in
/// the node's namespace through keepalived's <c>net_namespace</c>. Spool and pid files in a private directory.
/// </summary>
public sealed class OurVrrpNode : IVrrpSpeakerProcess
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly string _directory;

    private OurVrrpNode(LabNode node, VrrpPeerSettings settings, Process process, string directory)
    {
        Node = node;
        Settings = settings;
        _process = process;
        _directory = directory;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public LabNode Node { get; }
    public VrrpPeerSettings Settings { get; }
    public string NodeId => Settings.RouterId;
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public string OutputText => string.Join('\n', _lines);
    public string ConfigPath => Path.Combine(_directory, "keepalived.conf");

    /// <param name="rabbitMq">the bus to publish to; null leaves the events in the spool (the speaker does not care).</param>
    public static async Task<OurVrrpNode> StartAsync(LabNode node, VrrpPeerSettings settings, string? rabbitMq, params string[] extraArguments)
    {
        var directory = Directory.CreateTempSubdirectory("lvt-vrrp-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "keepalived.conf"), settings.Render(node.Namespace));
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var a in (string[])[DllPath, "--config", Path.Combine(directory, "keepalived.conf"),
                     $"--Eventing:NodeId={settings.RouterId}", $"--Eventing:SpoolDirectory={directory}/spool",
                     $"--Eventing:RunDirectory={directory}", "--Vrrp:CountersInterval=00:00:01",
                     "--Logging:LogLevel:LvsEvents.Vrrp=Debug", .. extraArguments])
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["ConnectionStrings__rabbitmq"] = rabbitMq ?? "amqp://nobody:unused@127.0.0.1:1/none";
        start.Environment.Remove("ConnectionStrings__influxdb");
        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        return new OurVrrpNode(node, settings, process, directory);
    }

    /// <summary>lvs-vrrp as built in the same configuration as this test assembly.</summary>
    public static string DllPath
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(RepositoryRoot.Path, "services", "vrrp", "bin", configuration, "net10.0", "lvs-vrrp.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built; build the solution in {configuration} first");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            LibC.kill(_process.Id, LibC.SIGTERM);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Debian's keepalived, VRRP only, in the foreground of a lab node, with a private config and pid files.</summary>
public sealed class KeepalivedSpeaker : IVrrpSpeakerProcess
{
    private readonly string _directory;
    private readonly LabProcess _process;

    private KeepalivedSpeaker(LabNode node, VrrpPeerSettings settings, string directory, LabProcess process)
    {
        Node = node;
        Settings = settings;
        _directory = directory;
        _process = process;
    }

    public LabNode Node { get; }
    public VrrpPeerSettings Settings { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public string OutputText => _process.OutputText;

    public static KeepalivedSpeaker Start(LabNode node, VrrpPeerSettings settings)
    {
        var directory = Directory.CreateTempSubdirectory("lvt-keepalived-").FullName;
        var config = Path.Combine(directory, "keepalived.conf");
        File.WriteAllText(config, settings.Render().Replace("  vrrp_garp_master_delay 1", "  vrrp_garp_master_delay 1\n  log_unknown_vrids", StringComparison.Ordinal));
        // -P VRRP only, -n foreground, -l console, -G not syslog, -D detail; `ip netns exec` gives the `ip` process's
        // pid, and keepalived replaces it (exec), so signals reach keepalived itself.
        var process = node.Start("keepalived", "-P", "-n", "-l", "-G", "-D", "-f", config,
            "-p", Path.Combine(directory, "keepalived.pid"), "-r", Path.Combine(directory, "vrrp.pid"));
        return new KeepalivedSpeaker(node, settings, directory, process);
    }

    /// <summary>keepalived forks its VRRP child: kill -9 must hit the child that speaks, as a crash would.</summary>
    public void KillVrrpChild()
    {
        var pid = int.Parse(File.ReadAllText(Path.Combine(_directory, "vrrp.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        // Stop the parent first so it cannot respawn the child between the two kills.
        LibC.kill(ProcessId, LibC.SIGSTOP);
        LibC.kill(pid, LibC.SIGKILL);
        LibC.kill(ProcessId, LibC.SIGKILL);
    }

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
