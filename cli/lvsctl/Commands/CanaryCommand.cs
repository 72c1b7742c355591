using System.Globalization;
using System.Net;
using System.Threading.Channels;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Keepalived;
using LvsEvents.Keepalived.Model;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace LvsEvents.Lvsctl.Commands;

/// <summary>
/// <c>lvsctl canary start|status|pause|resume|abort</c>: a gray release run by lvs-recovery. lvsctl checks the arguments
/// against keepalived.conf, publishes a <c>command.canary-start</c> / <c>command.canary-control</c> on the bus and prints
/// the <c>recovery.canary-status</c> each director's recovery answers with; so it works from any director.
/// </summary>
public sealed class CanaryCommand : ICommandGroup
{
    private const string DefaultConfig = "/etc/keepalived/keepalived.conf";

    public string Name => "canary";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl canary start --service VIP:PORT --server NEW[:PORT] [--steps 10,30,50,100] [--interval 5m] [--max-error-rate 0.05] [--remove-old] [--config FILE] [--node NODE] [--wait 10s]"
            + "   gray release by lvs-recovery: NEW must be a real_server of the service in keepalived.conf (declare it with weight 0, so that it is health-checked)",
        "lvsctl canary status|pause|resume|abort --service VIP:PORT [--config FILE] [--node NODE] [--wait 10s]   a canary's step, share, weights, error rate, state; steer it",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        if (arguments.Count == 0 || arguments[0] is not ("start" or "status" or "pause" or "resume" or "abort"))
        {
            return Fail(error, arguments.Count == 0 ? "missing sub-command (start, status, pause, resume, abort)" : $"unknown sub-command '{arguments[0]}'", usage: true);
        }

        var verb = arguments[0];
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        string[] valued = verb == "start"
            ? ["--service", "--server", "--steps", "--interval", "--max-error-rate", "--config", "--node", "--wait"]
            : ["--service", "--config", "--node", "--wait"];
        for (var i = 1; i < arguments.Count; i++)
        {
            var a = arguments[i];
            if (verb == "start" && a == "--remove-old")
            {
                flags.Add(a);
            }
            else if (valued.Contains(a) && i + 1 < arguments.Count)
            {
                options[a] = arguments[++i];
            }
            else
            {
                return Fail(error, valued.Contains(a) ? $"{a}: missing value" : $"unexpected argument '{a}'", usage: true);
            }
        }

        if (!options.TryGetValue("--service", out var serviceText))
        {
            return Fail(error, "--service: required (VIP:PORT)", usage: true);
        }

        if (!TryParseDuration(options.GetValueOrDefault("--wait", "10s"), out var wait))
        {
            return Fail(error, $"--wait: '{options["--wait"]}' is not a duration (e.g. 10s)");
        }

        var configFile = options.GetValueOrDefault("--config", DefaultConfig);
        if (!File.Exists(configFile))
        {
            return Fail(error, $"--config: {configFile} does not exist");
        }

        var parsed = ConfigurationParser.ParseFile(configFile);
        if (parsed.HasErrors)
        {
            return Fail(error, $"--config: {configFile} is invalid: {parsed.Errors.First()}");
        }

        if (!TryFindService(parsed.Configuration, serviceText, out var virtualServer, out var service, out var problem))
        {
            return Fail(error, $"--service: {problem}");
        }

        var node = options.GetValueOrDefault("--node");
        LvsEvent command;
        if (verb == "start")
        {
            if (!options.TryGetValue("--server", out var serverText))
            {
                return Fail(error, "--server: required (the new real server, ADDRESS[:PORT])", usage: true);
            }

            if (!TryFindServer(virtualServer!, service!, serverText, out var server, out problem))
            {
                return Fail(error, $"--server: {problem}");
            }

            if (!TryParseSteps(options.GetValueOrDefault("--steps", "10,30,50,100"), out var steps, out problem))
            {
                return Fail(error, $"--steps: {problem}");
            }

            if (!TryParseDuration(options.GetValueOrDefault("--interval", "5m"), out var interval))
            {
                return Fail(error, $"--interval: '{options["--interval"]}' is not a duration (e.g. 30s, 5m, 1h)");
            }

            if (!double.TryParse(options.GetValueOrDefault("--max-error-rate", "0.05"), NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || rate is < 0 or > 1)
            {
                return Fail(error, $"--max-error-rate: '{options["--max-error-rate"]}' is not a fraction within 0..1 (e.g. 0.05)");
            }

            if (virtualServer!.RealServers.Count(rs => rs.Weight > 0 && !SameServer(rs, server!)) == 0)
            {
                return Fail(error, $"--service: {service} has no other real_server with a weight to share traffic with");
            }

            command = new CanaryStartCommand
            {
                Server = server!, Steps = steps, Interval = interval, MaxErrorRate = rate, RemoveOld = flags.Contains("--remove-old"),
                TargetNode = node, RequestedBy = Operator(), Reason = $"lvsctl canary start {string.Join(' ', arguments.Skip(1))}",
            };
        }
        else
        {
            command = new CanaryControlCommand
            {
                VirtualService = service!, TargetNode = node, RequestedBy = Operator(), Reason = $"lvsctl canary {verb}",
                Action = verb switch
                {
                    "pause" => CanaryControl.Pause,
                    "resume" => CanaryControl.Resume,
                    "abort" => CanaryControl.Abort,
                    _ => CanaryControl.Status,
                },
            };
        }

        try
        {
            var replies = CanaryBus.SendAsync(command, wait, CancellationToken.None).GetAwaiter().GetResult();
            if (replies.Count == 0)
            {
                error.WriteLine($"lvsctl canary {verb}: no lvs-recovery{(node is null ? "" : " on " + node)} answered within {wait.TotalSeconds:0.#} s: is it running? (a recovery that is only restarting acts on it from its queue)");
                if (verb == "status" && RecordedStatus(service!, node, error) is { } recorded)
                {
                    // Recovery away (stopped, or its director down): the last status it recorded is the next best answer.
                    error.WriteLine($"last recorded status, {recorded.OccurredAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}:");
                    output.Write(Describe(recorded));
                    return 0;
                }

                return 1;
            }

            foreach (var reply in replies)
            {
                output.Write(Describe(reply));
            }

            var ok = verb switch
            {
                "start" => replies.Any(r => r.State == CanaryState.Running),
                "status" => true,
                _ => replies.Any(r => r.Reason is null || !r.Reason.StartsWith("cannot ", StringComparison.Ordinal)) && replies.Any(r => r.State != CanaryState.None),
            };
            return ok ? 0 : 1;
        }
        catch (LvsEvents.Eventing.ConfigurationException e)
        {
            error.WriteLine($"lvsctl canary: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is MassTransitException or RabbitMqConnectionException or TimeoutException or OperationCanceledException)
        {
            error.WriteLine($"lvsctl canary: the bus is not reachable: {e.GetBaseException().Message}");
            return 1;
        }
    }

    /// <summary>
    /// The last <c>recovery.canary-status</c> of the service recorded in the event store within a day (of the node, if
    /// given); null without a store (ConnectionStrings__eventstore) or a recorded status.
    /// </summary>
    private static CanaryStatus? RecordedStatus(VirtualServiceRef service, string? node, TextWriter error)
    {
        if (Environment.GetEnvironmentVariable("ConnectionStrings__eventstore") is not { Length: > 0 } connection)
        {
            return null;
        }

        try
        {
            using var store = LvsEvents.EventStore.EventStoreSchema.CreateStore(connection);
            var now = DateTimeOffset.UtcNow;
            var events = new LvsEvents.EventStore.RecordedEvents(store)
                .ReadAsync(now.AddDays(-1), now.AddMinutes(1), StreamKeys.VirtualService(service), 100_000).GetAwaiter().GetResult();
            return events.Select(r => r.Event).OfType<CanaryStatus>().LastOrDefault(s => node is null || s.NodeId == node);
        }
        catch (Npgsql.NpgsqlException e)
        {
            error.WriteLine($"lvsctl canary: the event store is not reachable either: {e.Message}");
            return null;
        }
    }

    /// <summary>The status of one director's canary, a few lines.</summary>
    public static string Describe(CanaryStatus s)
    {
        var text = new System.Text.StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"{s.VirtualService} on {s.NodeId}: {s.State}");
        if (s.Server is { } server)
        {
            text.Append(inv, $", new server {server.Address}:{server.Port}");
        }

        if (s.Step >= 0 && s.Step < s.Steps.Count)
        {
            text.Append(inv, $", step {s.Step + 1}/{s.Steps.Count} ({s.Steps[s.Step]}%), share {s.Share * 100:0.0}%");
        }

        text.AppendLine();
        if (s.Weights.Count > 0)
        {
            text.AppendLine("  weights: " + string.Join(", ", s.Weights.Select(w => $"{w.Server.Address}:{w.Server.Port}={w.Weight}{(w.Server == s.Server ? " (new)" : "")}")));
        }

        if (s.State is CanaryState.Running or CanaryState.Paused)
        {
            text.AppendLine(string.Create(inv, $"  probes this step: {s.Probes}, failed {s.FailedProbes}, error rate {(s.ErrorRate is { } r ? (r * 100).ToString("0.0", inv) + "%" : "-")} (max {s.MaxErrorRate * 100:0.0}%)"));
        }

        if (s.NextStepAt is { } next)
        {
            text.AppendLine(string.Create(inv, $"  next step: {next.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"));
        }

        if (s.Reason is { } reason)
        {
            text.AppendLine("  " + reason);
        }

        return text.ToString();
    }

    private static bool TryFindService(KeepalivedConfiguration configuration, string text, out VirtualServer? virtualServer, out VirtualServiceRef? service, out string problem)
    {
        virtualServer = null;
        service = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var protocol = slash > 0 ? text[..slash].ToUpperInvariant() : null;
        var endpoint = slash > 0 ? text[(slash + 1)..] : text;
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !IPAddress.TryParse(endpoint[..colon].Trim('[', ']'), out var address)
            || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            problem = $"'{text}' is not VIP:PORT (e.g. 192.168.1.100:80)";
            return false;
        }

        var matches = configuration.VirtualServers
            .Where(vs => vs.Kind == VirtualServerKind.Address && vs.Port == port && IPAddress.TryParse(vs.Address, out var a) && a.Equals(address)
                && (protocol is null || string.Equals(vs.Protocol ?? "TCP", protocol, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        if (matches.Count != 1)
        {
            problem = matches.Count == 0 ? $"no virtual_server {text} in the configuration" : $"{text} names {matches.Count} virtual_servers: say which protocol (e.g. UDP/{endpoint})";
            return false;
        }

        virtualServer = matches[0];
        service = new VirtualServiceRef((virtualServer.Protocol ?? "TCP").ToUpperInvariant(), address.ToString(), port);
        problem = "";
        return true;
    }

    private static bool TryFindServer(VirtualServer virtualServer, VirtualServiceRef service, string text, out RealServerRef? server, out string problem)
    {
        server = null;
        var colon = text.LastIndexOf(':');
        var hasPort = colon > 0 && text.Count(ch => ch == ':') == 1 || text.Contains("]:", StringComparison.Ordinal);
        var addressText = hasPort ? text[..colon].Trim('[', ']') : text.Trim('[', ']');
        int? port = null;
        if (hasPort)
        {
            if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                problem = $"'{text}' is not ADDRESS[:PORT]";
                return false;
            }

            port = p;
        }

        if (!IPAddress.TryParse(addressText, out var address))
        {
            problem = $"'{text}' is not ADDRESS[:PORT]";
            return false;
        }

        var matches = virtualServer.RealServers
            .Where(rs => IPAddress.TryParse(rs.Address, out var a) && a.Equals(address) && (port is null || (rs.Port ?? 0) == port))
            .ToList();
        if (matches.Count != 1)
        {
            problem = matches.Count == 0
                ? $"{text} is not a real_server of virtual_server {service} in the configuration: declare it there first (with weight 0, so that it is health-checked before it gets traffic)"
                : $"{text} names {matches.Count} real_servers of {service}: give the port";
            return false;
        }

        server = new RealServerRef(service, address.ToString(), matches[0].Port ?? 0);
        problem = "";
        return true;
    }

    private static bool SameServer(RealServer rs, RealServerRef server) =>
        IPAddress.TryParse(rs.Address, out var a) && a.ToString() == server.Address && (rs.Port ?? 0) == server.Port;

    private static bool TryParseSteps(string text, out IReadOnlyList<int> steps, out string problem)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part.TrimEnd('%'), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                steps = [];
                problem = $"'{part}' is not a percentage (e.g. 10,30,50,100)";
                return false;
            }

            list.Add(p);
        }

        steps = list;
        problem = StepsError(list) ?? "";
        return problem.Length == 0;
    }

    /// <summary>The same rule lvs-recovery applies (CanaryPolicy.StepsError): 1..100, ascending, ending at 100.</summary>
    private static string? StepsError(IReadOnlyList<int> steps) =>
        steps.Count == 0 ? "empty"
        : steps.Any(s => s is < 1 or > 100) ? $"'{string.Join(',', steps)}' has a percentage outside 1..100"
        : steps.Zip(steps.Skip(1)).Any(p => p.First >= p.Second) ? $"'{string.Join(',', steps)}' must ascend"
        : steps[^1] != 100 ? $"'{string.Join(',', steps)}' must end at 100"
        : null;

    /// <summary><c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, or a TimeSpan (<c>00:05:00</c>); positive.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration > TimeSpan.Zero;
        }

        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], "ms") : text.Length > 1 ? (text[..^1], text[^1..]) : ("", "");
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            return false;
        }

        duration = unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(amount),
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            _ => TimeSpan.Zero,
        };
        return duration > TimeSpan.Zero;
    }

    private static string Operator() => Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : Environment.UserName;

    private int Fail(TextWriter error, string message, bool usage = false)
    {
        error.WriteLine($"lvsctl canary: {message}");
        if (usage)
        {
            foreach (var line in Usage)
            {
                error.WriteLine($"usage: {line}");
            }
        }

        return 2;
    }
}

/// <summary>
/// One command on the bus and the recovery services' answers: a temporary queue is bound before the command is
/// published (so no answer is missed); after the first answer, others (the peer director's) are awaited briefly.
/// </summary>
internal static class CanaryBus
{
    private static readonly TimeSpan MoreAnswers = TimeSpan.FromMilliseconds(500);

    public static async Task<IReadOnlyList<CanaryStatus>> SendAsync(LvsEvent command, TimeSpan wait, CancellationToken cancellationToken)
    {
        var broker = RabbitMqEndpoint.Parse(Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq"));
        var node = Environment.GetEnvironmentVariable("Eventing__NodeId") is { Length: > 0 } n ? n : Environment.MachineName;
        var now = DateTimeOffset.UtcNow;
        var id = Guid.CreateVersion7(now);
        command = command with { EventId = id, OccurredAt = now, NodeId = node, Service = "lvsctl", CorrelationId = id };

        var answers = Channel.CreateUnbounded<CanaryStatus>();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new AnswerSink(id, answers.Writer));
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<AnswerConsumer>().Endpoint(endpoint =>
            {
                endpoint.Name = $"lvsctl-canary-{node}-{id:N}";
                endpoint.Temporary = true;
            });
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, host =>
                {
                    host.Username(broker.Username);
                    host.Password(broker.Password);
                    host.PublisherConfirmation = true;
                });
                rabbit.ConfigureEndpoints(context);
            });
        });
        await using var provider = services.BuildServiceProvider();
        var control = provider.GetRequiredService<IBusControl>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait + TimeSpan.FromSeconds(10));
        var handle = await control.StartAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            await handle.Ready.WaitAsync(timeout.Token).ConfigureAwait(false);
            await control.Publish(EventBatch.Of(node, "lvsctl", 0, [command]), timeout.Token).ConfigureAwait(false);
            var replies = new List<CanaryStatus>();
            using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            window.CancelAfter(wait);
            try
            {
                while (await answers.Reader.WaitToReadAsync(window.Token).ConfigureAwait(false))
                {
                    while (answers.Reader.TryRead(out var answer))
                    {
                        // One answer per director: the latest (a start answers once, a control once).
                        replies.RemoveAll(r => r.NodeId == answer.NodeId);
                        replies.Add(answer);
                    }

                    if (replies.Count == 1)
                    {
                        window.CancelAfter(MoreAnswers);
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            return replies;
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await control.StopAsync(stop.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Where the consumer puts the answers to one command.</summary>
    internal sealed record AnswerSink(Guid CommandId, ChannelWriter<CanaryStatus> Writer);

    /// <summary>recovery.canary-status events caused by (or correlated with) the command.</summary>
    internal sealed class AnswerConsumer(AnswerSink sink) : IConsumer<EventBatch>
    {
        public Task Consume(ConsumeContext<EventBatch> context)
        {
            if (context.Message.Service == "recovery")
            {
                foreach (var e in context.Message.Read())
                {
                    if (e is CanaryStatus status && (status.CausationId == sink.CommandId || status.CorrelationId == sink.CommandId))
                    {
                        sink.Writer.TryWrite(status);
                    }
                }
            }

            return Task.CompletedTask;
        }
    }
}
