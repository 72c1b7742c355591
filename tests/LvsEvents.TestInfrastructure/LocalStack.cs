using System.Diagnostics;

namespace LvsEvents.TestInfrastructure;

/// <summary>Stops and starts the local servers that ./test.sh runs (scripts/stack.sh), for outage tests.</summary>
public static class LocalStack
{
    public static Task StopRabbitMqAsync() => RunAsync("stop-rabbitmq");

    public static Task StartRabbitMqAsync() => RunAsync("start-rabbitmq");

    private static async Task RunAsync(string command)
    {
        if (Environment.GetEnvironmentVariable(TestServers.RabbitMqVariable) is null)
        {
            throw new TestServersUnavailableException("broker outage tests need the local servers: run ./test.sh");
        }

        var script = System.IO.Path.Combine(RepositoryRoot.Path, "scripts", "stack.sh");
        using var process = Process.Start(new ProcessStartInfo("bash", [script, command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/stack.sh {command} failed ({process.ExitCode}): {await output}{await error}");
        }
    }
}
