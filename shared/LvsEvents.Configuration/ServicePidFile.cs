using LvsEvents.Eventing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Configuration;

/// <summary>
/// Writes <c>{Eventing:RunDirectory}/{service}.pid</c> while the service runs, so <c>lvsctl reload</c> knows whom to
/// send SIGHUP. Started after <see cref="ConfigurationReloader"/>, i.e. only once SIGHUP means reload. A folder that
/// cannot be written is logged, not fatal: the service does its job, and <c>kill -HUP</c> still reloads it.
/// </summary>
public sealed class ServicePidFile(IOptions<RunDirectoryOptions> options, ServiceIdentity identity, ILogger<ServicePidFile> logger) : IHostedService
{
    public string Path { get; } = RunDirectoryOptions.PidFilePath(options.Value.RunDirectory, identity.Service);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var temporary = Path + ".tmp";
        try
        {
            Directory.CreateDirectory(options.Value.RunDirectory);

            // Written aside and renamed, so lvsctl never reads a half-written pid.
            await File.WriteAllTextAsync(temporary, pid + "\n", cancellationToken).ConfigureAwait(false);
            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError(
                "Cannot write the pid file {PidFile} ({Reason}): lvsctl reload will not find this service; set Eventing:RunDirectory to a folder it may write",
                Path,
                e.Message);
            return;
        }

        logger.LogInformation("Pid {ProcessId} written to {PidFile}", Environment.ProcessId, Path);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Only our own: a second instance started by mistake must not remove the file of the one that runs.
            if (File.Exists(Path) && File.ReadAllText(Path).Trim() == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                File.Delete(Path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not remove the pid file {PidFile}: {Reason}", Path, e.Message);
        }

        return Task.CompletedTask;
    }
}
