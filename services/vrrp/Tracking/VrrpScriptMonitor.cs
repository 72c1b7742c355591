using System.Diagnostics;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Definitions;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Vrrp.Tracking;

/// <summary>
/// Runs one <c>vrrp_script</c> every interval (killed at its timeout, which counts as a failure) and keeps
/// keepalived's rise/fall state: <see cref="VrrpScriptDefinition.Fall"/> failures in a row make it down,
/// <see cref="VrrpScriptDefinition.Rise"/> successes in a row make it up again. Raises <see cref="Changed"/> on a flip.
/// </summary>
public sealed class VrrpScriptMonitor(VrrpScriptDefinition script, string? networkNamespace, ILogger logger)
{
    private int _streak;

    public VrrpScriptDefinition Script => script;

    /// <summary>keepalived: good from the start unless <c>init_fail</c>.</summary>
    public bool IsUp { get; private set; } = !script.InitiallyFailed;

    public event Action<VrrpScriptMonitor>? Changed;

    /// <summary>Applies one run's outcome; pure apart from the event, so the rise/fall rules are testable.</summary>
    public void Record(bool success)
    {
        if (success == IsUp)
        {
            _streak = 0;
            return;
        }
        _streak++;
        if (_streak >= (success ? script.Rise : script.Fall))
        {
            _streak = 0;
            IsUp = success;
            Changed?.Invoke(this);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(script.Interval);
        do
        {
            var (success, detail) = await RunOnceAsync(cancellationToken).ConfigureAwait(false);
            var was = IsUp;
            Record(success);
            if (was != IsUp)
                logger.LogInformation("vrrp_script {Script} is now {State} ({Detail})", script.Name, IsUp ? "up" : "down", detail);
        } while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task<(bool, string)> RunOnceAsync(CancellationToken cancellationToken)
    {
        var start = NetworkNamespace.Shell(script.Command, networkNamespace);
        try
        {
            using var process = Process.Start(start)!;
            var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(cancellationToken), process.StandardError.ReadToEndAsync(cancellationToken));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(script.Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                return (false, $"timed out after {script.Timeout.TotalSeconds:0.###} s");
            }
            await drain.ConfigureAwait(false);
            return (process.ExitCode == 0, $"exit {process.ExitCode}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (false, e.Message);
        }
    }
}
