using System.Diagnostics;
using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>
/// MISC_CHECK: runs misc_path (through /bin/sh, so it may carry arguments and quoting). Exit 0 is up, anything else
/// down; with misc_dynamic an exit of 2..255 is up with weight exit - 2, as keepalived computes it. A script still
/// running at misc_timeout is killed (with its children) and counts as a failure.
/// </summary>
public sealed class MiscProbe(string command, TimeSpan timeout, bool dynamic) : IProbe
{
    public string Label { get; } = $"MISC_CHECK {command}";

    public async ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
    {
        // Output redirected (and discarded, as keepalived does); left attached it would flood the service's log.
        var start = ProbeNetwork.Shell(command);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return ProbeOutcome.Failed(ProbeErrorClass.ScriptFailed, $"cannot start: {e.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var discarding = Task.WhenAll(
                process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, cancellationToken),
                process.StandardError.BaseStream.CopyToAsync(Stream.Null, cancellationToken));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                cancellationToken.ThrowIfCancellationRequested();
                return ProbeOutcome.Failed(ProbeErrorClass.ScriptTimeout, $"still running after {timeout.TotalSeconds:0.###} s, killed");
            }

            try
            {
                // A background child may keep the pipes open after the script exits: do not wait for it.
                await discarding.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or IOException)
            {
            }

            var status = process.ExitCode;
            if (status == 0)
            {
                return ProbeOutcome.Up("exit 0");
            }

            if (dynamic && status is >= 2 and <= 255)
            {
                return ProbeOutcome.Up($"exit {status}", dynamicWeight: status - 2);
            }

            return ProbeOutcome.Failed(ProbeErrorClass.ScriptFailed, $"exit {status}");
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the timeout and the kill.
        }
    }
}
