using System.Diagnostics;
using System.Text;
using LvsEvents.TestInfrastructure;

namespace LvsEvents.Configuration.Tests;

/// <summary>A real service process (<c>dotnet services/.../lvs-*.dll</c>) with its output captured; killed on dispose.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private ServiceProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>The service's dll as built in the same configuration (Debug/Release) as this test assembly.</summary>
    public static string DllPath(string folder, string assemblyName)
    {
        var configuration = AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(RepositoryRoot.Path, "services", folder, "bin", configuration, "net10.0", assemblyName + ".dll");
        Assert.True(File.Exists(path), $"{path} is not built; build the solution in {configuration} first");
        return path;
    }

    public static async Task<ServiceProcess> StartAsync(string dll, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Path,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ConnectionStrings__rabbitmq"] = await TestServers.RabbitMqAsync();
        var process = new Process { StartInfo = start };
        var service = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => service.Append(service._output, e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(service._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Waits for the process to end by itself; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    /// <summary>Waits for <paramref name="path"/> to exist; fails at once, with the output, if the process ends first.</summary>
    public async Task WaitForFileAsync(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(path))
        {
            Assert.False(_process.HasExited, $"the service exited ({(_process.HasExited ? _process.ExitCode : 0)}) before writing {path}:\n{Output}\n{Error}");
            Assert.True(DateTime.UtcNow < deadline, $"no {path} after {timeout.TotalSeconds:F0} s:\n{Output}\n{Error}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (target)
        {
            target.AppendLine(line);
        }
    }
}
