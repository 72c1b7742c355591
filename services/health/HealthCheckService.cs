using LvsEvents.Configuration;
using LvsEvents.Health.Reporting;
using LvsEvents.Keepalived.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Health;

/// <summary>
/// The health service's work: checks the running configuration's real servers with a <see cref="HealthEngine"/>, and
/// on a reload replaces the engine with one for the new configuration: checkers that are still there keep their state,
/// new or changed ones start from keepalived's initial states, as keepalived's own reload does. Events go through the durable spool, so checking goes on
/// while the bus is down.
/// </summary>
public sealed class HealthCheckService(
    RunningConfiguration configuration,
    EventOutbox outbox,
    TimeProvider clock,
    IOptions<HealthOptions> options,
    ILogger<HealthCheckService> logger) : BackgroundService
{
    private readonly Lock _gate = new();
    private CancellationTokenSource? _engineStop;
    private KeepalivedConfiguration? _pending;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The engine running now (tests and the benchmark read its statistics).</summary>
    public HealthEngine? Engine { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var emitting = outbox.RunAsync(stoppingToken);
        using var subscription = configuration.Subscribe("health checkers", (change, _) =>
        {
            lock (_gate)
            {
                _pending = change.Current.Model;
                _engineStop?.Cancel();
                _changed.TrySetResult();
            }

            return ValueTask.CompletedTask;
        });

        var model = configuration.Current;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                using var engineStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var engine = new HealthEngine(model, outbox, clock, options.Value, logger, previous: Engine);
                lock (_gate)
                {
                    _engineStop = engineStop;
                    Engine = engine;
                }

                await engine.RunAsync(engineStop.Token).ConfigureAwait(false);
                if (stoppingToken.IsCancellationRequested)
                {
                    await engine.RunShutdownNotifiersAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                    break;
                }

                lock (_gate)
                {
                    if (_pending is null)
                    {
                        break;
                    }

                    model = _pending;
                    _pending = null;
                    logger.LogInformation("Configuration reloaded: restarting the checkers");
                }
            }
        }
        finally
        {
            await emitting.ConfigureAwait(false);
        }
    }
}
