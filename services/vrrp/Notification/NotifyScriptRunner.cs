using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Definitions;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Vrrp.Notification;

/// <summary>
/// Runs <c>notify_master|backup|fault|stop</c> as keepalived does (the command line as written) and the generic
/// <c>notify</c> with keepalived's arguments: <c>INSTANCE|GROUP name MASTER|BACKUP|FAULT|STOP priority</c>.
/// Scripts run in the background, in the VRRP network namespace, and are killed if they outlive the timeout.
/// </summary>
public sealed class NotifyScriptRunner(ILogger<NotifyScriptRunner> logger)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public void OnStateChanged(NotifyScripts scripts, string kind, string name, VrrpState state, int priority, string? networkNamespace)
    {
        var specific = state switch
        {
            VrrpState.Master => scripts.Master,
            VrrpState.Backup => scripts.Backup,
            VrrpState.Fault => scripts.Fault,
            VrrpState.Stopped => scripts.Stop,
            _ => null,
        };
        var word = state == VrrpState.Stopped ? "STOP" : state.ToString().ToUpperInvariant();
        if (specific is not null)
            Start(specific, networkNamespace, name, word);
        if (scripts.Any is not null)
            Start($"{scripts.Any} {kind} {name} {word} {priority}", networkNamespace, name, word);
    }

    private void Start(string commandLine, string? networkNamespace, string name, string state)
    {
        var start = NetworkNamespace.Shell(commandLine, networkNamespace);
        _ = Task.Run(async () =>
        {
            try
            {
                using var process = Process.Start(start)!;
                var output = process.StandardOutput.ReadToEndAsync();
                var error = process.StandardError.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(Timeout);
                try
                {
                    await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    logger.LogWarning("Notify script for {Instance} {State} ran longer than {Timeout} and was killed", name, state, Timeout);
                    return;
                }
                await Task.WhenAll(output, error).ConfigureAwait(false);
                if (process.ExitCode != 0)
                    logger.LogWarning("Notify script for {Instance} {State} exited with {ExitCode}: {Error}", name, state, process.ExitCode, error.Result.Trim());
                else
                    logger.LogInformation("Notify script for {Instance} {State} ran", name, state);
            }
            catch (Exception e)
            {
                logger.LogWarning("Notify script for {Instance} {State} could not run: {Error}", name, state, e.Message);
            }
        });
    }
}
