using System.Diagnostics;

namespace LvsEvents.Pipeline.Tests;

/// <summary>An operator's mistake at start-up is one line naming the setting, exit code 1, no stack trace.</summary>
public class ServiceStartupErrorTests
{
    private static async Task<(int ExitCode, string Output)> RunMonitorAsync(Dictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "lvs-monitor.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output) + (await error));
    }

    [Fact]
    public async Task A_missing_broker_setting_is_named_in_one_line()
    {
        var (exitCode, output) = await RunMonitorAsync(new() { ["ConnectionStrings__rabbitmq"] = null });

        Assert.Equal(1, exitCode);
        Assert.Equal(
            "lvs-monitor: ConnectionStrings:rabbitmq is not set: give the broker as amqp://user:password@host:5672/vhost (environment variable ConnectionStrings__rabbitmq).",
            output.Trim());
    }

    [Fact]
    public async Task A_spool_folder_that_cannot_be_made_is_named_in_one_line()
    {
        var (exitCode, output) = await RunMonitorAsync(
            new() { ["ConnectionStrings__rabbitmq"] = "amqp://u:p@127.0.0.1:1/v", ["ConnectionStrings__eventstore"] = "Host=127.0.0.1;Database=x", ["ConnectionStrings__influxdb"] = "Url=http://127.0.0.1:1;Database=x" },
            "--Eventing:SpoolDirectory=/proc/no-such-folder");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("lvs-monitor: event spool /proc/no-such-folder/monitor: cannot create the folder", output.Trim());
        Assert.DoesNotContain("   at ", output);
        Assert.Single(output.Trim().Split('\n'));
    }
}
