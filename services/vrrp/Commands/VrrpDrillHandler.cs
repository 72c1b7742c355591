using LvsEvents.Contracts;
using LvsEvents.Vrrp.Speaking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Vrrp.Commands;

/// <summary>
/// lvsctl's VRRP drills on this node, where <c>Drills:Allowed</c> is set. Master-failure: the instance's master crashes
/// (silent, VIPs gone) for the duration, then starts over. Partition: the instance's backups ignore every advert for the
/// duration (the master still hears them: a one-way partition, so the master sees the split brain and reports it).
/// A node not allowed to drill answers with a refusal; a command older than its duration is over and ignored.
/// </summary>
public sealed class VrrpDrillHandler(VrrpSpeaker speaker, VrrpEventWriter events, IOptions<DrillOptions> options, TimeProvider clock, ILogger<VrrpDrillHandler> logger)
{
    private readonly HashSet<Guid> _seen = [];

    public void Handle(DrillCommand drill)
    {
        lock (_seen)
        {
            if (!_seen.Add(drill.EventId))
                return;
        }

        var runners = speaker.Runners.Where(r => drill.Instance is null || r.Name == drill.Instance).ToList();
        if (runners.Count == 0)
            return;
        // A command older than its duration is over (a queue delivering it late); else the failure lasts the duration from now.
        if (drill.OccurredAt + drill.Duration <= clock.GetUtcNow())
        {
            logger.LogWarning("Drill {DrillId} ({Drill}) would have ended at {Ends:O}, before it arrived; ignored", drill.EventId, drill.Drill, drill.OccurredAt + drill.Duration);
            return;
        }

        if (!options.Value.Allowed)
        {
            logger.LogWarning("Drill {DrillId} ({Drill}) refused: {Setting} is false", drill.EventId, drill.Drill, $"{DrillOptions.Section}:Allowed");
            foreach (var runner in runners)
                events.Post(new DrillStep
                {
                    DrillId = drill.EventId, Drill = drill.Drill, Step = DrillStepKind.Refused, Instance = runner.Name,
                    Detail = $"drills are not allowed on this node (lvs-vrrp {DrillOptions.Section}:Allowed is false)",
                    CorrelationId = drill.EventId, CausationId = drill.EventId,
                });
            return;
        }

        var remaining = drill.Duration;
        foreach (var runner in runners)
        {
            switch (drill.Drill)
            {
                case DrillKind.MasterFailure when runner.State == VrrpState.Master:
                    runner.Crash(drill, $"master stops advertising and drops its VIPs for {drill.Duration.TotalSeconds:0.###} s, as a crash would");
                    _ = EndLaterAsync(remaining, () => runner.RecoverFromCrash(drill));
                    break;
                case DrillKind.Partition when runner.State != VrrpState.Master:
                    runner.SetDeaf(drill, true, $"ignores every advert for {drill.Duration.TotalSeconds:0.###} s (one-way partition from the master)");
                    _ = EndLaterAsync(remaining, () => runner.SetDeaf(drill, false, "hears adverts again"));
                    break;
            }
        }
    }

    private async Task EndLaterAsync(TimeSpan delay, Action end)
    {
        try
        {
            await Task.Delay(delay, clock).ConfigureAwait(false);
            end();
        }
        catch (Exception e)
        {
            logger.LogError("Drill end failed: {Error}", e.Message);
        }
    }
}
