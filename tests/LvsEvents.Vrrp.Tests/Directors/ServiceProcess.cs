using System.Collections.Concurrent;
using System.Diagnostics;
using Tmds.Linux;

namespace LvsEvents.Vrrp.Tests.Directors;

/// <summary>
/// One of our services (lvs-recovery, lvs-health, lvs-ipvs-writer) as its own process in the test's namespace, so it reaches
/// the real bus; built next to this assembly by the project references. Spool and state in a private directory; stopped
/// with SIGTERM (SIGKILL after 10 s) on dispose.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly string _directory;

    private ServiceProcess(string name, Process process, string directory)
    {
        Name = name;
        _process = process;
        _directory = directory;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public bool HasExited => _process.HasExited;
    public string OutputText => string.Join('\n', _lines);

    /// <param name="dll">e.g. <c>lvs-recovery.dll</c>, in this assembly's directory.</param>
    public static ServiceProcess Start(string name, string dll, string nodeId, string broker, IEnumerable<string> arguments)
    {
        var directory = Directory.CreateTempSubdirectory("lvd-svc-").FullName;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, dll), $"--Eventing:NodeId={nodeId}",
                     $"--Eventing:SpoolDirectory={directory}/spool", $"--Eventing:RunDirectory={directory}", .. arguments])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = broker;
        start.Environment.Remove("ConnectionStrings__influxdb");
        return new ServiceProcess(name, Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet"), directory);
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
