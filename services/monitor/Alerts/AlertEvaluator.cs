using System.Threading.Channels;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Monitor.Recording;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Monitor.Alerts;

/// <summary>
/// Runs the alert rules over every recorded event (off the recording path), publishes each alert on the bus
/// (so it is recorded like everything else) and hands it to the sinks (webhooks, SMTP).
/// </summary>
public sealed class AlertEvaluator(
    AlertBook book,
    IEventEmitter emitter,
    IEnumerable<IAlertSink> sinks,
    IOptions<AlertOptions> options,
    TimeProvider clock,
    ILogger<AlertEvaluator> logger) : BackgroundService, IRecordedEventObserver
{
    private readonly Channel<LvsEvent> _events = Channel.CreateUnbounded<LvsEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IReadOnlyList<IAlertSink> _sinks = sinks.ToList();

    public void Observe(IReadOnlyList<LvsEvent> events)
    {
        foreach (var e in events)
            _events.Writer.TryWrite(e);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var ticks = new PeriodicTimer(options.Value.TickInterval, clock);
        var tick = ticks.WaitForNextTickAsync(stoppingToken).AsTask();
        var read = _events.Reader.WaitToReadAsync(stoppingToken).AsTask();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var done = await Task.WhenAny(tick, read).ConfigureAwait(false);
                if (done == tick)
                {
                    await tick.ConfigureAwait(false);
                    await PublishAsync(book.Tick(clock.GetUtcNow()), stoppingToken).ConfigureAwait(false);
                    tick = ticks.WaitForNextTickAsync(stoppingToken).AsTask();
                    continue;
                }
                if (!await read.ConfigureAwait(false))
                    return;
                while (_events.Reader.TryRead(out var e))
                    await PublishAsync(book.Observe(e, clock.GetUtcNow()), stoppingToken).ConfigureAwait(false);
                read = _events.Reader.WaitToReadAsync(stoppingToken).AsTask();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PublishAsync(IReadOnlyList<LvsEvent> alerts, CancellationToken cancellationToken)
    {
        foreach (var alert in alerts)
        {
            var stamped = await emitter.EmitAsync(alert, cancellationToken).ConfigureAwait(false);
            logger.LogWarning("Alert {Alert}", SmtpAlertSink.Describe(stamped).Subject);
            foreach (var sink in _sinks)
            {
                try
                {
                    await sink.DeliverAsync(stamped, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // The alert is on the bus and in the store either way.
                    logger.LogError("Alert delivery to {Sink} failed: {Error}", sink.Name, e.Message);
                }
            }
        }
    }
}
