using LvsEvents.Contracts;

namespace LvsEvents.Replay.Tests;

/// <summary>The cluster view, state at instants, rebuild and postmortem over the real failover scenario.</summary>
[Collection(FailoverCollection.Name)]
public sealed class FailoverReplayTests(FailoverScenario scenario)
{
    private static CancellationToken Soon => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Fact(Timeout = 60_000)]
    public async Task State_at_before_during_and_after_the_failover_names_the_right_owner()
    {
        var projection = scenario.Store.Projection(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        var before = await projection.StateAtAsync(scenario.BeforeKill, Soon);
        var instance = before.View.Instances[scenario.Instance];
        Assert.Equal([scenario.A], instance.Owners);
        Assert.Equal(VrrpState.Master, instance.Nodes[scenario.A].State);
        Assert.Equal(VrrpState.Backup, instance.Nodes[scenario.B].State);
        Assert.Equal(150, instance.Nodes[scenario.A].EffectivePriority);
        Assert.NotEmpty(instance.Nodes[scenario.A].Vips);

        // Between the kill and b's takeover the store only knows a's last word: still master.
        var during = await projection.StateAtAsync(scenario.Takeover.OccurredAt - TimeSpan.FromMilliseconds(200), Soon);
        Assert.Equal([scenario.A], during.View.Instances[scenario.Instance].Owners);
        Assert.Equal(VrrpState.Backup, during.View.Instances[scenario.Instance].Nodes[scenario.B].State);

        var after = await projection.StateAtAsync(scenario.TakeoverVip.OccurredAt + TimeSpan.FromMilliseconds(100), Soon);
        var now = after.View.Instances[scenario.Instance];
        Assert.Equal([scenario.B], now.Owners);
        Assert.True(now.Nodes[scenario.A].Lost, "a's last word was Master, but b took over: a is presumed lost");
        Assert.Equal(scenario.TakeoverVip.Address, Assert.Single(now.Nodes[scenario.B].Vips));
        Assert.NotNull(after.SnapshotAt);
    }

    [Fact(Timeout = 60_000)]
    public async Task State_at_during_and_after_the_real_server_outage()
    {
        var projection = scenario.Store.Projection(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        var key = ClusterView.EndpointOf(FailoverScenario.Server);
        var vs = FailoverScenario.Server.VirtualService.ToString();

        var during = (await projection.StateAtAsync(scenario.DownAt + TimeSpan.FromSeconds(0.3), Soon)).View;
        var down = during.VirtualServices[vs].RealServers[key];
        Assert.Equal(HealthState.Down, down.Health);
        Assert.Equal(0, down.Weight);
        Assert.Equal(WeightChangeCause.Health, down.WeightCause);
        Assert.Equal(0, down.KernelWeights[scenario.B]);
        Assert.Contains($"real-server-down:{FailoverScenario.Server}", during.OpenAlerts.Keys);

        var after = (await projection.StateAtAsync(scenario.End, Soon)).View;
        var up = after.VirtualServices[vs].RealServers[key];
        Assert.Equal(HealthState.Up, up.Health);
        Assert.Equal(3, up.Weight);
        Assert.Equal(WeightChangeCause.Recovery, up.WeightCause);
        Assert.Equal(3, up.KernelWeights[scenario.B]);
        Assert.Empty(after.OpenAlerts);
    }

    [Fact(Timeout = 60_000)]
    public async Task State_at_any_instant_equals_a_plain_fold_of_the_events_up_to_it()
    {
        var projection = scenario.Store.Projection(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        var times = scenario.Events.Select(e => e.OccurredAt).Distinct().Order().ToList();
        // Half-way between consecutive events (so microsecond rounding in PostgreSQL cannot matter), every 3rd.
        var instants = times.Zip(times.Skip(1), (x, y) => x + (y - x) / 2).Where((_, i) => i % 3 == 0).Append(scenario.End).ToList();
        Assert.True(instants.Count > 10, $"only {instants.Count} instants");
        var fromSnapshots = 0;
        foreach (var at in instants)
        {
            var state = await projection.StateAtAsync(at, Soon);
            Assert.Equal(ReplayStore.Fold(scenario.Events, at).ToJson(), state.View.ToJson());
            fromSnapshots += state.SnapshotAt is null ? 0 : 1;
        }

        Assert.True(fromSnapshots > instants.Count / 2, $"only {fromSnapshots} of {instants.Count} instants started from a snapshot");
    }

    [Fact(Timeout = 60_000)]
    public async Task Rebuilding_from_scratch_gives_the_live_view_and_the_same_answers()
    {
        Assert.Equal(ReplayStore.Fold(scenario.Events, DateTimeOffset.MaxValue).ToJson(), scenario.LiveJson);
        var fresh = scenario.Store.Projection(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        var before = await fresh.StateAtAsync(scenario.DownAt + TimeSpan.FromSeconds(0.3), Soon);
        var rebuilt = await fresh.RebuildAsync(Soon);
        Assert.Equal(scenario.LiveJson, rebuilt.ToJson());
        Assert.Equal(scenario.LiveJson, (await fresh.ReadLiveAsync(Soon))!.Value.View.ToJson());
        var again = await fresh.StateAtAsync(scenario.DownAt + TimeSpan.FromSeconds(0.3), Soon);
        Assert.Equal(before.View.ToJson(), again.View.ToJson());
    }

    [Fact(Timeout = 60_000)]
    public async Task Postmortem_lists_the_failover_and_the_outage_with_their_durations()
    {
        var projection = scenario.Store.Projection(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        var report = await new PostmortemBuilder(projection).BuildAsync(scenario.BeforeKill, scenario.End, Soon);

        var failover = Assert.Single(report.Failovers);
        Assert.False(failover.Election);
        Assert.Equal(scenario.A, failover.OldMaster);
        Assert.Equal(scenario.B, failover.NewMaster);
        Assert.Equal(VrrpTransitionReason.MasterDownTimerExpired, failover.Reason);
        var lastAdvert = scenario.Takeover.Evidence!.LastAdvertAt!.Value;
        Assert.Equal(scenario.TakeoverVip.OccurredAt - lastAdvert, failover.Gap);
        Assert.True(lastAdvert <= scenario.KilledAt, $"last advert {lastAdvert:O} after the kill {scenario.KilledAt:O}");
        // Master down interval for advert_int 1, priority 100: 3 + 156/256 s.
        Assert.InRange(failover.Gap!.Value.TotalSeconds, 3.0, 5.0);

        var outage = Assert.Single(report.Outages);
        Assert.Equal(FailoverScenario.Server.ToString(), outage.RealServer);
        Assert.Equal(scenario.DownAt, outage.DownAt);
        Assert.Equal(scenario.UpAt - scenario.DownAt, outage.Duration);
        Assert.Equal(scenario.FirstFailedProbe, outage.FirstFailedProbeAt);
        Assert.Equal([WeightChangeCause.Health, WeightChangeCause.Recovery], outage.WeightChanges.Select(w => w.Cause));

        var drained = report.WeightChanges.Where(w => w.RealServer == FailoverScenario.Healthy.ToString() && w.Cause == WeightChangeCause.Operator).ToList();
        Assert.Equal(2, drained.Count);
        Assert.All(drained, w => Assert.Equal("alice", w.RequestedBy));

        // Reduced capacity: from the server going down until the last weight is back (the drain overlaps it).
        var backAt = report.WeightChanges.Where(w => w.NewWeight > 0).Max(w => w.At);
        Assert.Equal(backAt - scenario.DownAt, report.ReducedCapacity);

        var alert = Assert.Single(report.Alerts);
        Assert.NotNull(alert.ResolvedAt);
        Assert.Equal(alert.ResolvedAt!.Value - alert.RaisedAt, alert.Duration);
        Assert.Contains(report.ConfigChanges, c => c.Changes.Any(x => x.Fields.Any(f => f.Field == "auth_pass" && f.New == "***")));
        Assert.Single(report.DriftCorrections);
        Assert.Equal(4, report.KernelChanges.Count);

        var text = ReportText.Postmortem(report);
        Assert.Contains($"{scenario.A} -> {scenario.B}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);
    }
}
