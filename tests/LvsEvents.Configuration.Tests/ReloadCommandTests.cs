using System.Diagnostics;
using System.Globalization;
using LvsEvents.Lvsctl;

namespace LvsEvents.Configuration.Tests;

/// <summary><c>lvsctl reload</c> without running services: usage, missing and stale pid files.</summary>
public sealed class ReloadCommandTests : IDisposable
{
    private readonly string _runDirectory = Path.Combine(Path.GetTempPath(), "lvs-reload-command-" + Guid.NewGuid().ToString("N"));

    public ReloadCommandTests() => Directory.CreateDirectory(_runDirectory);

    public void Dispose() => Directory.Delete(_runDirectory, recursive: true);

    private static (int ExitCode, string Output, string Error) Lvsctl(params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = Program.Run(arguments, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("--service", "monitor")]
    [InlineData("--service")]
    [InlineData("--run-dir")]
    [InlineData("--frobnicate")]
    [InlineData("vrrp")]
    public void Bad_arguments_print_the_usage_and_exit_2(params string[] arguments)
    {
        var (exitCode, output, error) = Lvsctl(["reload", .. arguments]);

        Assert.Equal(2, exitCode);
        Assert.Equal("", output);
        Assert.Contains("usage: lvsctl reload [--service vrrp|health|ipvs-writer|all] [--run-dir DIR]", error, StringComparison.Ordinal);
    }

    [Fact]
    public void With_no_pid_files_every_service_is_not_running_and_the_exit_code_is_1()
    {
        var (exitCode, output, _) = Lvsctl("reload", "--service", "all", "--run-dir", _runDirectory);

        Assert.Equal(1, exitCode);
        Assert.Equal(
            ["vrrp: not running", "health: not running", "ipvs-writer: not running"],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.IndexOf(" (", StringComparison.Ordinal)]));
        Assert.Contains(Path.Combine(_runDirectory, "vrrp.pid"), output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_pid_file_is_ignored_whether_its_pid_is_dead_or_another_program()
    {
        using (var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            await exited.WaitForExitAsync();
            await File.WriteAllTextAsync(Path.Combine(_runDirectory, "vrrp.pid"), exited.Id.ToString(CultureInfo.InvariantCulture) + "\n");
        }

        // This test process is alive but is not lvs-health: SIGHUP must not reach it.
        await File.WriteAllTextAsync(Path.Combine(_runDirectory, "health.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        await File.WriteAllTextAsync(Path.Combine(_runDirectory, "ipvs-writer.pid"), "not a pid");

        var (exitCode, output, _) = Lvsctl("reload", "--run-dir", _runDirectory);

        Assert.Equal(1, exitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("vrrp: not running (stale pid file", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("health: not running (stale pid file", lines[1], StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId} is not lvs-health", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("ipvs-writer: not running (", lines[2], StringComparison.Ordinal);
        Assert.Contains("holds no pid", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void One_service_is_chosen_with_service()
    {
        var (exitCode, output, _) = Lvsctl("reload", "--service", "health", "--run-dir", _runDirectory);

        Assert.Equal(1, exitCode);
        Assert.StartsWith("health: not running", Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
