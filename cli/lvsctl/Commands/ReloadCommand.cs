using System.Globalization;
using System.Runtime.InteropServices;

namespace LvsEvents.Lvsctl.Commands;

/// <summary>
/// <c>lvsctl reload</c>: sends SIGHUP to the running services that read keepalived.conf, found by the pid files they
/// write to <c>{Eventing:RunDirectory}/{service}.pid</c>. Each re-reads the file and records config.applied or
/// config.rejected.
/// </summary>
public sealed class ReloadCommand : ICommandGroup
{
    /// <summary>Same default as the services' <c>Eventing:RunDirectory</c>.</summary>
    public const string DefaultRunDirectory = "/run/lvsevents";

    private const int SigHup = 1;

    private static readonly string[] ReloadableServices = ["vrrp", "health", "ipvs-writer"];

    public string Name => "reload";

    public IReadOnlyList<string> Usage { get; } = ["lvsctl reload [--service vrrp|health|ipvs-writer|all] [--run-dir DIR]"];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        if (!TryParse(arguments, out var services, out var runDirectory))
        {
            foreach (var line in Usage)
            {
                error.WriteLine($"usage: {line}");
            }

            return 2;
        }

        var signalled = 0;
        foreach (var service in services)
        {
            if (Signal(service, runDirectory, out var detail))
            {
                signalled++;
                output.WriteLine($"{service}: signalled ({detail})");
            }
            else
            {
                output.WriteLine($"{service}: not running ({detail})");
            }
        }

        return signalled > 0 ? 0 : 1;
    }

    private static bool TryParse(IReadOnlyList<string> arguments, out IReadOnlyList<string> services, out string runDirectory)
    {
        services = ReloadableServices;
        runDirectory = DefaultRunDirectory;
        for (var i = 0; i < arguments.Count; i++)
        {
            switch (arguments[i])
            {
                case "--service" when i + 1 < arguments.Count:
                    var name = arguments[++i];
                    if (name == "all")
                    {
                        services = ReloadableServices;
                    }
                    else if (ReloadableServices.Contains(name))
                    {
                        services = [name];
                    }
                    else
                    {
                        return false;
                    }

                    break;
                case "--run-dir" when i + 1 < arguments.Count && arguments[i + 1].Length > 0:
                    runDirectory = arguments[++i];
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static bool Signal(string service, string runDirectory, out string detail)
    {
        var pidFile = Path.Combine(runDirectory, service + ".pid");
        string text;
        try
        {
            text = File.ReadAllText(pidFile).Trim();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            detail = $"no pid file {pidFile}";
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            detail = $"cannot read {pidFile}: {e.Message}";
            return false;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
        {
            detail = $"{pidFile} holds no pid";
            return false;
        }

        // A pid file left by a crash may name a pid the kernel has since given to another program, which SIGHUP
        // could end: signal it only if it still runs our service.
        if (!IsRunning(pid, service))
        {
            detail = $"stale pid file {pidFile}: pid {pid} is not lvs-{service}";
            return false;
        }

        if (Kill(pid, SigHup) != 0)
        {
            detail = $"pid {pid}: kill failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            return false;
        }

        detail = $"pid {pid}";
        return true;
    }

    private static bool IsRunning(int pid, string service)
    {
        try
        {
            // The arguments are NUL-separated: "dotnet\0/path/lvs-vrrp.dll\0..." or "/path/lvs-vrrp\0...".
            var arguments = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0');
            return arguments.Take(2).Any(a => Path.GetFileNameWithoutExtension(a) == $"lvs-{service}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    // DllImport rather than LibraryImport: the generated stub needs unsafe code, and kill(2) is blittable anyway.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
