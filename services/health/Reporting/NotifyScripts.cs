using System.Diagnostics;
using LvsEvents.Keepalived.Model;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Health.Reporting;

/// <summary>
/// Runs keepalived's notify scripts (notify_up/notify_down of a real server, quorum_up/quorum_down of a virtual
/// server) through /bin/sh, without waiting for them: a slow script must never delay checking, as in keepalived.
/// A script still running after <see cref="Limit"/> is killed. The user/group of the invocation is not applied: the
/// service runs them as itself.
/// </summary>
public sealed class NotifyScripts(ILogger logger)
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>Starts the script; the task ends with it (only a shutdown waits for it).</summary>
    public Task Run(ScriptInvocation? script, string why)
    {
        if (script is null)
        {
            return Task.CompletedTask;
        }

        return Task.Run(async () =>
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", script.Command }, UseShellExecute = false })
                    ?? throw new InvalidOperationException("no process");
                using var limit = new CancellationTokenSource(Limit);
                try
                {
                    await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    logger.LogWarning("Notify script {Script} ({Why}) still running after {Limit}: killed", script.Command, why, Limit);
                    return;
                }

                if (process.ExitCode != 0)
                {
                    logger.LogWarning("Notify script {Script} ({Why}) exited with {ExitCode}", script.Command, why, process.ExitCode);
                }
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                logger.LogWarning("Notify script {Script} ({Why}) could not start: {Error}", script.Command, why, e.Message);
            }
        });
    }
}
