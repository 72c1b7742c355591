using System.Globalization;
using System.Text.RegularExpressions;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Replay;
using MassTransit;
using DrillRequest = LvsEvents.Contracts.DrillCommand;

namespace LvsEvents.Lvsctl.Commands;

/// <summary>
/// <c>lvsctl drill master-failure|partition|backend-outage</c>: the article's failure drills on a live system. Publishes a
/// <c>command.drill</c> on the bus (the services act on it only where <c>Drills:Allowed</c> is set), then judges the outcome
/// from the events recorded in the store (ConnectionStrings__eventstore, --schema) and prints a pass/fail report with
/// timings. Exit 0 only on pass; 1 on fail or refusal; 2 on bad usage.
/// </summary>
public sealed partial class DrillCommand : ICommandGroup
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    public string Name => "drill";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl drill master-failure|partition [--instance NAME] [--duration 10s] [--tolerance 1s] [--grace 3s] [--requested-by NAME]",
        "lvsctl drill backend-outage --service VIP:PORT --server IP:PORT [--duration 10s] [--detect-within 30s] [--recovery-within 3m] [--grace 3s] [--requested-by NAME]",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        if (arguments.Count == 0 || !TryKind(arguments[0], out var kind))
        {
            foreach (var line in Usage)
            {
                error.WriteLine($"usage: {line}");
            }

            return 2;
        }

        var usage = kind == DrillKind.BackendOutage ? Usage[1] : Usage[0];
        var options = ReplayOptions.Parse(arguments.Skip(1).ToList(), [], error, Name, usage);
        if (options is null)
        {
            return 2;
        }

        var settings = Settings.From(kind, options, error);
        if (settings is null)
        {
            error.WriteLine($"usage: {usage}");
            return 2;
        }

        return ReplayOptions.WithStore(options, error, Name, async (events, _, cancellationToken) =>
        {
            var drill = new Drill(settings, events, output, cancellationToken);
            var passed = await drill.RunAsync().ConfigureAwait(false);
            return passed ? 0 : 1;
        });
    }

    private static bool TryKind(string text, out DrillKind kind)
    {
        (var known, kind) = text switch
        {
            "master-failure" => (true, DrillKind.MasterFailure),
            "partition" => (true, DrillKind.Partition),
            "backend-outage" => (true, DrillKind.BackendOutage),
            _ => (false, default),
        };
        return known;
    }

    /// <summary>What the operator asked for, parsed.</summary>
    private sealed record Settings(DrillKind Kind, string? Instance, RealServerRef? Server, TimeSpan Duration, TimeSpan Tolerance,
        TimeSpan Grace, TimeSpan DetectWithin, TimeSpan RecoveryWithin, string RequestedBy)
    {
        public static Settings? From(DrillKind kind, ReplayOptions options, TextWriter error)
        {
            if (!Span(options, "--duration", "10s", error, out var duration) || !Span(options, "--tolerance", "1s", error, out var tolerance)
                || !Span(options, "--grace", "3s", error, out var grace) || !Span(options, "--detect-within", "30s", error, out var detect)
                || !Span(options, "--recovery-within", "3m", error, out var recovery))
            {
                return null;
            }

            if (duration <= TimeSpan.Zero)
            {
                error.WriteLine("lvsctl drill: --duration must be positive");
                return null;
            }

            RealServerRef? server = null;
            if (kind == DrillKind.BackendOutage)
            {
                if (!System.Net.IPEndPoint.TryParse(options.Value("--service") ?? "", out var vip) || vip.Port == 0
                    || !System.Net.IPEndPoint.TryParse(options.Value("--server") ?? "", out var real) || real.Port == 0)
                {
                    error.WriteLine("lvsctl drill backend-outage: --service VIP:PORT and --server IP:PORT are required");
                    return null;
                }

                server = new RealServerRef(VirtualServiceRef.Tcp(vip.Address.ToString(), vip.Port), real.Address.ToString(), real.Port);
            }

            return new Settings(kind, options.Value("--instance"), server, duration, tolerance, grace, detect, recovery,
                options.Value("--requested-by") ?? Environment.UserName);
        }

        private static bool Span(ReplayOptions options, string name, string fallback, TextWriter error, out TimeSpan value)
        {
            var text = options.Value(name) ?? fallback;
            var match = SpanPattern().Match(text);
            if (match.Success && double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                value = match.Groups[2].Value switch
                {
                    "ms" => TimeSpan.FromMilliseconds(number),
                    "m" => TimeSpan.FromMinutes(number),
                    _ => TimeSpan.FromSeconds(number),
                };
                return true;
            }

            value = default;
            error.WriteLine($"lvsctl drill: '{name} {text}' is not a duration (like 500ms, 10s, 2m)");
            return false;
        }
    }

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$")]
    private static partial Regex SpanPattern();

    [GeneratedRegex(@"-w (\d+)")]
    private static partial Regex KernelWeight();

    /// <summary>One drill: publish, watch the store, judge, report.</summary>
    private sealed class Drill(Settings settings, StoredEvents store, TextWriter output, CancellationToken cancellationToken)
    {
        private readonly List<string> _lines = [];
        private DateTimeOffset _t0;
        private string? _failure;

        public async Task<bool> RunAsync()
        {
            var started = DateTimeOffset.UtcNow;
            return settings.Kind switch
            {
                DrillKind.BackendOutage => await BackendOutageAsync(started).ConfigureAwait(false),
                _ => await VrrpDrillAsync(started).ConfigureAwait(false),
            };
        }

        private async Task<bool> VrrpDrillAsync(DateTimeOffset started)
        {
            var name = settings.Kind == DrillKind.MasterFailure ? "master-failure" : "partition";
            var states = await LatestStatesAsync(started).ConfigureAwait(false);
            var instances = states.Where(s => s.Value.To == VrrpState.Master).Select(s => s.Key.Instance).Distinct().ToList();
            var instance = settings.Instance ?? (instances.Count == 1 ? instances[0] : null);
            if (instance is null)
            {
                output.WriteLine(instances.Count == 0
                    ? $"drill {name}: FAIL: no VRRP instance has a MASTER in the store; nothing to drill"
                    : $"drill {name}: FAIL: several instances have a master ({string.Join(", ", instances)}): say which with --instance");
                return false;
            }

            var nodes = states.Where(s => s.Key.Instance == instance).ToDictionary(s => s.Key.Node, s => s.Value);
            var masters = nodes.Where(n => n.Value.To == VrrpState.Master).Select(n => n.Key).ToList();
            if (masters.Count != 1)
            {
                output.WriteLine($"drill {name} {instance}: FAIL: {(masters.Count == 0 ? "no node is" : $"{masters.Count} nodes are")} MASTER of {instance} before the drill"
                    + (masters.Count > 0 ? $" ({string.Join(", ", masters)})" : ""));
                return false;
            }

            var master = masters[0];
            var backups = nodes.Where(n => n.Value.To == VrrpState.Backup).Select(n => n.Key).ToList();
            var intervals = nodes.Values.Select(s => s.Evidence?.MasterDownInterval).OfType<TimeSpan>().ToList();
            var masterDown = intervals.Count > 0 ? intervals.Max() : TimeSpan.FromSeconds(4);
            var limit = masterDown + settings.Tolerance;
            Line($"before: {master} MASTER of {instance}; backups {(backups.Count == 0 ? "none" : string.Join(", ", backups))}; "
                + $"Master_Down_Interval {Seconds(masterDown)}{(intervals.Count == 0 ? " (not recorded; assumed)" : "")}, tolerance {Seconds(settings.Tolerance)}");

            var drill = await PublishAsync(instance, null, [.. nodes.Keys]).ConfigureAwait(false);
            if (await AnswersAsync(drill, settings.Kind == DrillKind.MasterFailure ? [master] : backups).ConfigureAwait(false) is not { } injected)
            {
                return Report(name, instance);
            }

            if (settings.Kind == DrillKind.MasterFailure)
            {
                var takeover = await FirstAsync<VrrpStateChanged>(e => e.Instance == instance && e.NodeId != master && e.To == VrrpState.Master && e.OccurredAt >= injected,
                    injected + limit).ConfigureAwait(false);
                if (takeover is null)
                {
                    return Fail(name, instance, $"no node became MASTER of {instance} within {Seconds(limit)} (Master_Down_Interval {Seconds(masterDown)} + tolerance {Seconds(settings.Tolerance)})");
                }

                Line($"{At(takeover.OccurredAt)}  {takeover.NodeId} became MASTER ({takeover.Reason}) {Seconds(takeover.OccurredAt - injected)} after the failure: ok (limit {Seconds(limit)})");
                if (await FirstAsync<VipAcquired>(e => e.Instance == instance && e.NodeId == takeover.NodeId && e.OccurredAt >= injected, injected + limit).ConfigureAwait(false) is { } vip)
                {
                    Line($"{At(vip.OccurredAt)}  {vip.NodeId} holds {vip.Address}: VIP moved {Seconds(vip.OccurredAt - injected)} after the failure");
                }
                else
                {
                    return Fail(name, instance, $"{takeover.NodeId} became MASTER but no VIP of {instance} was acquired within {Seconds(limit)}");
                }
            }
            else
            {
                var second = await FirstAsync<VrrpStateChanged>(e => e.Instance == instance && e.NodeId != master && e.To == VrrpState.Master && e.OccurredAt >= injected,
                    injected + limit).ConfigureAwait(false);
                if (second is null)
                {
                    return Fail(name, instance, $"no second node became MASTER of {instance} within {Seconds(limit)}: the partition had no effect");
                }

                Line($"{At(second.OccurredAt)}  {second.NodeId} became MASTER too ({second.Reason}): split brain {Seconds(second.OccurredAt - injected)} after the partition");
                await ReportSplitBrainAsync(instance, injected).ConfigureAwait(false);
            }

            // Recovery: the failure ends after the duration; then exactly one master must remain, stable.
            var ended = await FirstAsync<DrillStep>(e => e.DrillId == drill.EventId && e.Step == DrillStepKind.Ended, injected + settings.Duration + settings.Tolerance).ConfigureAwait(false);
            if (ended is null)
            {
                return Fail(name, instance, $"the failure was not undone within {Seconds(settings.Duration + settings.Tolerance)} (no drill.step ended)");
            }

            Line($"{At(ended.OccurredAt)}  {ended.NodeId}: {ended.Detail}");
            var settled = ended.OccurredAt + masterDown + masterDown + settings.Tolerance;
            await WaitUntilAsync(settled + settings.Grace).ConfigureAwait(false);
            var after = (await LatestStatesAsync(settled).ConfigureAwait(false)).Where(s => s.Key.Instance == instance).ToList();
            var finalMasters = after.Where(s => s.Value.To == VrrpState.Master).ToList();
            if (finalMasters.Count != 1)
            {
                return Fail(name, instance, $"{finalMasters.Count} MASTERs of {instance} {Seconds(settled - ended.OccurredAt)} after the failure ended"
                    + (finalMasters.Count > 0 ? $" ({string.Join(", ", finalMasters.Select(m => m.Key.Node))})" : ""));
            }

            // The last transition after the failure ended is when the single master was settled.
            var last = after.Max(s => s.Value.OccurredAt);
            var single = finalMasters[0];
            var settledAt = last > ended.OccurredAt ? last : ended.OccurredAt;
            Line($"{At(settledAt)}  recovery completed: {single.Key.Node} is the single MASTER of {instance}"
                + (single.Key.Node != master ? " (stable)" : settings.Kind == DrillKind.MasterFailure ? " (the master is back)" : " (the master kept it)")
                + $", {Seconds(settledAt - ended.OccurredAt)} after the failure ended; no change since");
            return Report(name, instance);
        }

        private async Task ReportSplitBrainAsync(string instance, DateTimeOffset injected)
        {
            var until = injected + settings.Duration;
            await WaitUntilAsync(until).ConfigureAwait(false);
            var events = await ReadAsync(injected, [EventTypes.SplitBrainSuspected, EventTypes.RecoveryDecision, EventTypes.VrrpResignCommand]).ConfigureAwait(false);
            foreach (var suspicion in events.OfType<SplitBrainSuspected>().Where(s => s.Instance == instance))
            {
                Line($"{At(suspicion.OccurredAt)}  {suspicion.NodeId} suspected split brain with {suspicion.PeerAddress} (priority {suspicion.PeerPriority} vs {suspicion.LocalPriority})");
                foreach (var decision in events.OfType<RecoveryDecision>().Where(d => d.CorrelationId == suspicion.EventId))
                {
                    Line($"{At(decision.OccurredAt)}  recovery on {decision.NodeId}: {decision.Action}: {decision.Reason}");
                }

                foreach (var command in events.OfType<VrrpResignCommand>().Where(c => c.CorrelationId == suspicion.EventId))
                {
                    Line($"{At(command.OccurredAt)}  {command.EventType} to {command.TargetNode}: {(command.Restore ? "restore" : command.Mode.ToString())}");
                }
            }
        }

        private async Task<bool> BackendOutageAsync(DateTimeOffset started)
        {
            const string name = "backend-outage";
            var server = settings.Server!;
            var before = await ReadAsync(started - TimeSpan.FromDays(1), [EventTypes.RealServerWeightChanged, EventTypes.KernelRuleApplied], started).ConfigureAwait(false);
            var full = FullWeight(before, server);
            if (full is not > 0)
            {
                output.WriteLine($"drill {name} {server}: FAIL: no weight of {server} recorded before the drill (is it configured and in service?)");
                return false;
            }

            Line($"before: {server} in service at weight {full}; tolerance {Seconds(settings.Tolerance)}");
            var drill = await PublishAsync(null, server, null).ConfigureAwait(false);
            if (await AnswersAsync(drill, null).ConfigureAwait(false) is not { } injected)
            {
                return Report(name, server.ToString());
            }

            var down = await FirstAsync<RealServerHealthChanged>(e => e.RealServer == server && e.To == HealthState.Down && e.OccurredAt >= injected, injected + settings.DetectWithin).ConfigureAwait(false);
            if (down is null)
            {
                return Fail(name, server.ToString(), $"health did not mark {server} down within {Seconds(settings.DetectWithin)}");
            }

            Line($"{At(down.OccurredAt)}  {down.NodeId}: {server} down ({down.Reason}) {Seconds(down.OccurredAt - injected)} after the outage");
            var drained = await FirstAsync<KernelRuleApplied>(e => e.RealServer == server && e.OccurredAt >= down.OccurredAt && (e.After is null || KernelWeight().Match(e.After).Groups[1].Value == "0"),
                down.OccurredAt + TimeSpan.FromSeconds(5) + settings.Tolerance).ConfigureAwait(false);
            if (drained is null)
            {
                return Fail(name, server.ToString(), $"traffic was not redistributed: no kernel.rule-applied took {server} out within {Seconds(TimeSpan.FromSeconds(5) + settings.Tolerance)} of it going down");
            }

            Line($"{At(drained.OccurredAt)}  {drained.NodeId}: kernel {drained.Operation} {drained.After ?? "(deleted)"}: traffic redistributed {Seconds(drained.OccurredAt - down.OccurredAt)} after down");
            var ended = await FirstAsync<DrillStep>(e => e.DrillId == drill.EventId && e.Step == DrillStepKind.Ended, injected + settings.Duration + settings.Tolerance).ConfigureAwait(false);
            if (ended is null)
            {
                return Fail(name, server.ToString(), $"the outage was not undone within {Seconds(settings.Duration + settings.Tolerance)} (no drill.step ended)");
            }

            Line($"{At(ended.OccurredAt)}  {ended.NodeId}: {ended.Detail}");
            var up = await FirstAsync<RealServerHealthChanged>(e => e.RealServer == server && e.To == HealthState.Up && e.OccurredAt >= ended.OccurredAt, ended.OccurredAt + settings.DetectWithin).ConfigureAwait(false);
            if (up is null)
            {
                return Fail(name, server.ToString(), $"health did not mark {server} up within {Seconds(settings.DetectWithin)} of the outage ending");
            }

            Line($"{At(up.OccurredAt)}  {up.NodeId}: {server} up again");
            var back = await FirstAsync<KernelRuleApplied>(e => e.RealServer == server && e.OccurredAt >= up.OccurredAt && e.After is { } rule && KernelWeight().Match(rule).Groups[1].Value == full.Value.ToString(CultureInfo.InvariantCulture),
                up.OccurredAt + settings.RecoveryWithin).ConfigureAwait(false);
            var steps = (await ReadAsync(up.OccurredAt, [EventTypes.KernelRuleApplied]).ConfigureAwait(false)).OfType<KernelRuleApplied>()
                .Where(e => e.RealServer == server && e.After is not null && (back is null || e.OccurredAt <= back.OccurredAt))
                .Select(e => KernelWeight().Match(e.After!).Groups[1].Value).Distinct().ToList();
            if (back is null)
            {
                return Fail(name, server.ToString(), $"{server} was not back at full weight {full} within {Seconds(settings.RecoveryWithin)} of coming up (kernel weights since: {string.Join(" → ", steps)})");
            }

            Line($"{At(back.OccurredAt)}  recovery completed: {server} at full weight {full} in the kernel {Seconds(back.OccurredAt - up.OccurredAt)} after it came up (kernel weights {string.Join(" → ", steps)})");
            return Report(name, server.ToString());
        }

        private static int? FullWeight(IReadOnlyList<LvsEvent> before, RealServerRef server)
        {
            var weight = before.OfType<RealServerWeightChanged>().Where(e => e.RealServer == server && e.NewWeight > 0).Select(e => (int?)e.NewWeight).LastOrDefault();
            if (weight is not null)
            {
                return weight;
            }

            return before.OfType<KernelRuleApplied>().Where(e => e.RealServer == server && e.After is not null)
                .Select(e => int.TryParse(KernelWeight().Match(e.After!).Groups[1].Value, CultureInfo.InvariantCulture, out var w) && w > 0 ? w : (int?)null)
                .LastOrDefault(w => w is not null);
        }

        /// <summary>Publishes the drill; its id is the command's event id.</summary>
        private async Task<DrillRequest> PublishAsync(string? instance, RealServerRef? server, IReadOnlyList<string>? nodes)
        {
            var broker = RabbitMqEndpoint.Parse(Environment.GetEnvironmentVariable("ConnectionStrings__" + RabbitMqEndpoint.ConnectionStringName));
            var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, host =>
            {
                host.Username(broker.Username);
                host.Password(broker.Password);
                host.PublisherConfirmation = true;
            }));
            await bus.StartAsync(cancellationToken).ConfigureAwait(false);
            // Stamped once the bus is up: the services count the duration from when they act, and drop a command older than it.
            var now = DateTimeOffset.UtcNow;
            var id = Guid.CreateVersion7(now);
            var drill = new DrillRequest
            {
                EventId = id, OccurredAt = now, NodeId = Environment.MachineName, Service = "lvsctl", CorrelationId = id,
                Drill = settings.Kind, Duration = settings.Duration, Instance = instance, RealServer = server, Nodes = nodes,
                RequestedBy = settings.RequestedBy, Reason = "lvsctl drill",
            };
            try
            {
                await bus.PublishWithCommandsAsync(EventBatch.Of(drill.NodeId, drill.Service, 0, [drill]), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await bus.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            _t0 = now;
            Line($"{At(now)}  drill {drill.EventId} published: {settings.Kind} for {Seconds(settings.Duration)}");
            return drill;
        }

        /// <summary>The time the failure took effect (the first injected step), or null after reporting refusals or silence.</summary>
        private async Task<DateTimeOffset?> AnswersAsync(DrillRequest drill, IReadOnlyCollection<string>? expected)
        {
            var wait = TimeSpan.FromSeconds(5) < settings.Duration ? TimeSpan.FromSeconds(5) : settings.Duration;
            IReadOnlyList<DrillStep> steps = [];
            var deadline = DateTimeOffset.UtcNow + wait + settings.Grace;
            DateTimeOffset? firstRefusal = null;
            while (DateTimeOffset.UtcNow < deadline)
            {
                steps = (await ReadAsync(drill.OccurredAt - TimeSpan.FromSeconds(1), [EventTypes.DrillStep]).ConfigureAwait(false)).OfType<DrillStep>().Where(s => s.DrillId == drill.EventId).ToList();
                var answered = steps.Select(s => s.NodeId).ToHashSet(StringComparer.Ordinal);
                if (steps.Any(s => s.Step == DrillStepKind.Refused))
                {
                    // One refusal decides; the other directors' answers, if they come within a second, say where else.
                    firstRefusal ??= DateTimeOffset.UtcNow;
                    if (drill.Nodes is null || drill.Nodes.All(answered.Contains) || DateTimeOffset.UtcNow - firstRefusal > TimeSpan.FromSeconds(1))
                    {
                        break;
                    }
                }
                else if (steps.Count > 0 && (expected is null || expected.All(answered.Contains)))
                {
                    break;
                }

                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }

            foreach (var step in steps.OrderBy(s => s.OccurredAt))
            {
                Line($"{At(step.OccurredAt)}  {step.NodeId} {step.Service}: {step.Step.ToString().ToLowerInvariant()}: {step.Detail}");
            }

            var refused = steps.Where(s => s.Step == DrillStepKind.Refused).ToList();
            if (refused.Count > 0)
            {
                _failure = $"refused by {string.Join(", ", refused.Select(r => $"{r.NodeId} {r.Service}").Distinct())}: {refused[0].Detail}; nothing was changed by them";
                return null;
            }

            var injected = steps.Where(s => s.Step == DrillStepKind.Injected).OrderBy(s => s.OccurredAt).FirstOrDefault();
            if (injected is null)
            {
                _failure = $"no service answered the drill within {Seconds(wait)} (is the {(settings.Kind == DrillKind.BackendOutage ? "health" : "vrrp")} service running there, with its queue on this bus?)";
                return null;
            }

            return injected.OccurredAt;
        }

        private async Task<Dictionary<(string Node, string Instance), VrrpStateChanged>> LatestStatesAsync(DateTimeOffset upTo)
        {
            var latest = new Dictionary<(string, string), VrrpStateChanged>();
            foreach (var e in (await ReadAsync(upTo - TimeSpan.FromDays(1), [EventTypes.VrrpStateChanged], upTo).ConfigureAwait(false)).OfType<VrrpStateChanged>())
            {
                latest[(e.NodeId, e.Instance)] = e;
            }

            return latest;
        }

        /// <summary>The first matching event that happened by <paramref name="by"/>, looking until the store had <see cref="Settings.Grace"/> to record it.</summary>
        private async Task<T?> FirstAsync<T>(Func<T, bool> match, DateTimeOffset by) where T : LvsEvent
        {
            var type = EventTypes.NameOf(typeof(T));
            while (true)
            {
                var found = (await ReadAsync(_t0 - TimeSpan.FromSeconds(1), [type]).ConfigureAwait(false)).OfType<T>().Where(e => e.OccurredAt <= by).FirstOrDefault(match);
                if (found is not null || DateTimeOffset.UtcNow > by + settings.Grace)
                {
                    return found;
                }

                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task WaitUntilAsync(DateTimeOffset at)
        {
            var wait = at - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task<IReadOnlyList<LvsEvent>> ReadAsync(DateTimeOffset from, IReadOnlyList<string> types, DateTimeOffset? to = null)
        {
            var found = new List<LvsEvent>();
            await foreach (var e in store.ReadAsync(new EventFilter { From = from, To = to, Types = types }, cancellationToken).ConfigureAwait(false))
            {
                found.Add(e.Event);
            }

            return found;
        }

        private bool Fail(string name, string subject, string reason)
        {
            _failure = reason;
            return Report(name, subject);
        }

        private bool Report(string name, string subject)
        {
            output.WriteLine($"drill {name} {subject}: {(_failure is null ? "PASS" : "FAIL")}");
            foreach (var line in _lines)
            {
                output.WriteLine("  " + line);
            }

            if (_failure is not null)
            {
                output.WriteLine($"  FAIL: {_failure}");
            }

            return _failure is null;
        }

        private void Line(string text) => _lines.Add(text);

        private string At(DateTimeOffset at) => _t0 == default ? "" : $"+{(at - _t0).TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)} s";

        private static string Seconds(TimeSpan span) => $"{span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";
    }
}
