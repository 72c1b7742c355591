using System.Runtime.InteropServices;
using System.Threading.Channels;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Keepalived.Diff;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Configuration;

/// <summary>
/// Re-reads keepalived.conf on SIGHUP (as keepalived does) or on <see cref="ReloadAsync"/>. An invalid file is
/// rejected whole and the running configuration stays; a valid, different one replaces it and the observers of
/// <see cref="RunningConfiguration"/> apply their part. Every outcome is an event.
/// </summary>
public sealed class ConfigurationReloader(
    RunningConfiguration running,
    KeepalivedConfigurationReader reader,
    IEventEmitter emitter,
    ILogger<ConfigurationReloader> logger) : BackgroundService
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    // One pending request is enough: signals that arrive while one waits are served by the same re-read.
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private PosixSignalRegistration? _sighup;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var loaded = running.Loaded;
        var changes = InitialConfigurationChanges.Of(loaded.Model);
        await emitter.EmitAsync(new ConfigurationApplied { File = loaded.File, Hash = loaded.Hash, Changes = changes }, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Running {File} (hash {Hash}, {ObjectCount} objects)", loaded.File, loaded.Hash, changes.Count);

        // Registered before the pid file is written: a SIGHUP that finds no handler would end the process.
        _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSighup);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _sighup?.Dispose();
        _sighup = null;
        _signals.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _sighup?.Dispose();
        _oneAtATime.Dispose();
        base.Dispose();
    }

    /// <summary>Re-reads the file now and applies or rejects it; returns the outcome and the event emitted for it.</summary>
    public async Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReloadOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ReloadOnSignalsAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping (also when another service failed to start): not a failure of the reloader.
        }
    }

    private async Task ReloadOnSignalsAsync(CancellationToken stoppingToken)
    {
        await foreach (var _ in _signals.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await ReloadAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The service keeps running on the old configuration; the next SIGHUP tries again.
                logger.LogError(e, "Reload of {File} on SIGHUP failed", reader.File);
            }
        }
    }

    private void OnSighup(PosixSignalContext context)
    {
        context.Cancel = true; // SIGHUP means "reload" here, not "terminate"
        logger.LogInformation("SIGHUP: reloading {File}", reader.File);
        _signals.Writer.TryWrite(true);
    }

    private async Task<ReloadResult> ReloadOnceAsync(CancellationToken cancellationToken)
    {
        var previous = running.Loaded;

        // Parsing a large file takes a few hundred milliseconds: keep it off the signal and caller threads.
        var result = await Task.Run(() => reader.Read(cancellationToken), cancellationToken).ConfigureAwait(false);
        if (result.Configuration is not { } next)
        {
            var errors = result.ErrorLines;
            logger.LogWarning(
                "Reload of {File} rejected, still running hash {Hash}: {ErrorCount} errors: {Errors}",
                result.File,
                previous.Hash,
                errors.Count,
                string.Join(" | ", errors));
            var rejected = await emitter.EmitAsync(new ConfigurationRejected { File = result.File, Errors = errors }, cancellationToken).ConfigureAwait(false);
            return new ReloadResult(ReloadOutcome.Rejected, rejected);
        }

        ConfigurationWarnings.Log(logger, next);
        var changes = ConfigurationDiff.Compare(previous.Model, next.Model);

        // The hash also sees what the diff does not compare (top-level pass-through blocks); the diff also sees what
        // the hash does not (secrets). Either one differing is a change.
        if (changes.Count == 0 && next.Hash == previous.Hash)
        {
            logger.LogInformation("Reload of {File}: no change (hash {Hash})", next.File, next.Hash);
            var unchanged = await emitter.EmitAsync(new ConfigurationApplied { File = next.File, Hash = next.Hash, Changes = [] }, cancellationToken).ConfigureAwait(false);
            return new ReloadResult(ReloadOutcome.Unchanged, unchanged);
        }

        await running.ApplyAsync(new ConfigurationChangedNotification(previous, next, changes), cancellationToken).ConfigureAwait(false);
        logger.LogInformation(
            "Reload of {File} applied: hash {OldHash} -> {Hash}, {ChangeCount} changes: {Changes}",
            next.File,
            previous.Hash,
            next.Hash,
            changes.Count,
            string.Join(", ", changes.Select(c => $"{c.Change} {c.ObjectType} {c.Key}")));
        var applied = await emitter.EmitAsync(new ConfigurationApplied { File = next.File, Hash = next.Hash, Changes = changes }, cancellationToken).ConfigureAwait(false);
        return new ReloadResult(ReloadOutcome.Applied, applied);
    }
}
