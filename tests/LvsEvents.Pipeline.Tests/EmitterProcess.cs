using System.Diagnostics;

namespace LvsEvents.Pipeline.Tests;

/// <summary>A separate service process (lvs-bench emit) that the outage test kills with SIGKILL.</summary>
internal sealed class EmitterProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];

    private EmitterProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_lines) { _lines.Add(e.Data); } } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_lines) { _lines.Add(e.Data); } } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static EmitterProcess Start(string node, string spool, int count)
    {
        var bench = Path.Combine(AppContext.BaseDirectory, "lvs-bench.dll");
        var start = new ProcessStartInfo("dotnet", [bench, "emit", "--node", node, "--service", "spool-test", "--spool", spool, "--count", count.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return new EmitterProcess(Process.Start(start)!);
    }

    public async Task WaitForLineAsync(string line, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_lines)
            {
                if (_lines.Contains(line))
                {
                    return;
                }
            }

            if (_process.HasExited)
            {
                break;
            }

            await Task.Delay(50);
        }

        lock (_lines)
        {
            throw new TimeoutException($"emitter process did not print '{line}' (exited: {_process.HasExited}); it printed:\n{string.Join('\n', _lines)}");
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-9", _process.Id.ToString()])!.WaitForExit();
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
