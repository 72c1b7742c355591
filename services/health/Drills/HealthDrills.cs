using System.Diagnostics;
using System.Net;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Netlink;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Health.Drills;

/// <summary>Section <c>Drills</c>: whether this director takes part in <c>lvsctl drill</c> (off unless the operator says so).</summary>
public sealed class HealthDrillOptions
{
    public const string Section = "Drills";

    /// <summary>False: drill commands are answered with a refusal and change nothing.</summary>
    public bool Allowed { get; set; }
}

/// <summary>
/// The backend-outage drill on this director: for its duration the director's own packets to the real server's port are
/// rejected (an nftables table of the drill's own in the namespace the probes run in, <c>Health:NetworkNamespace</c>), so
/// every probe of it fails as if it had gone down, while forwarded client traffic is untouched; then the table goes.
/// The checkers themselves are not touched. Needs CAP_NET_ADMIN and nft(8).
/// </summary>
public sealed class HealthDrillHandler(IEventEmitter emitter, IOptions<HealthDrillOptions> options, IConfiguration configuration, LvsEvents.Configuration.RunningConfiguration running, TimeProvider clock, ILogger<HealthDrillHandler> logger)
{
    private readonly HashSet<Guid> _seen = [];

    public async Task HandleAsync(DrillCommand drill, CancellationToken cancellationToken)
    {
        lock (_seen)
        {
            if (drill.Drill != DrillKind.BackendOutage || drill.RealServer is null || !_seen.Add(drill.EventId))
            {
                return;
            }
        }

        var server = drill.RealServer;
        // Only a server this director checks: a drill names one real server of the cluster.
        if (!running.Current.VirtualServers.Any(vs => vs.RealServers.Any(rs => rs.Address == server.Address && (rs.Port ?? 0) == server.Port)))
        {
            return;
        }

        // A command older than its duration is over (a queue delivering it late); else the outage lasts the duration from now.
        var ends = clock.GetUtcNow() + drill.Duration;
        if (drill.OccurredAt + drill.Duration <= clock.GetUtcNow() || !IPAddress.TryParse(server.Address, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            logger.LogWarning("Drill {DrillId} for {RealServer}: over before it arrived, or not an IPv4 server; ignored", drill.EventId, server);
            return;
        }

        if (!options.Value.Allowed)
        {
            await StepAsync(drill, DrillStepKind.Refused, $"drills are not allowed on this node (lvs-health {HealthDrillOptions.Section}:Allowed is false)", cancellationToken).ConfigureAwait(false);
            return;
        }

        var table = "lvsevents_drill_" + drill.EventId.ToString("N")[^8..];
        var ns = configuration[$"{HealthOptions.Section}:NetworkNamespace"];
        var rule = $"add table ip {table}\nadd chain ip {table} out {{ type filter hook output priority 0 ; }}\n"
                   + $"add rule ip {table} out ip daddr {address} tcp dport {server.Port} reject with tcp reset\n";
        if (await NftAsync(rule, ns, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            await StepAsync(drill, DrillStepKind.Refused, $"cannot inject the outage: nft failed: {problem}", cancellationToken).ConfigureAwait(false);
            return;
        }

        await StepAsync(drill, DrillStepKind.Injected, $"probes of {server} fail for {drill.Duration.TotalSeconds:0.###} s (this director's packets to it rejected)", cancellationToken).ConfigureAwait(false);
        _ = Task.Run(async () =>
        {
            var remaining = ends - clock.GetUtcNow();
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining, clock, CancellationToken.None).ConfigureAwait(false);
            }

            // Stamped before the undo: a probe that succeeds as soon as the rule is gone must not predate the end.
            var endedAt = clock.GetUtcNow();
            var undone = await NftAsync($"delete table ip {table}\n", ns, CancellationToken.None).ConfigureAwait(false);
            await StepAsync(drill, DrillStepKind.Ended, undone is null ? $"probes of {server} reach it again" : $"could not undo the outage: {undone}", CancellationToken.None, endedAt).ConfigureAwait(false);
        }, CancellationToken.None);
    }

    private Task StepAsync(DrillCommand drill, DrillStepKind step, string detail, CancellationToken cancellationToken, DateTimeOffset occurredAt = default)
    {
        logger.LogWarning("Drill {DrillId} {Drill} {RealServer}: {Step}: {Detail}", drill.EventId, drill.Drill, drill.RealServer, step, detail);
        return emitter.EmitAsync(new DrillStep
        {
            DrillId = drill.EventId, Drill = drill.Drill, Step = step, RealServer = drill.RealServer, Detail = detail, OccurredAt = occurredAt,
            CorrelationId = drill.EventId, CausationId = drill.EventId,
        }, cancellationToken).AsTask();
    }

    /// <returns>null on success, else what nft said.</returns>
    private static async Task<string?> NftAsync(string script, string? ns, CancellationToken cancellationToken)
    {
        try
        {
            using var process = Process.Start(NetworkNamespace.Shell("nft -f -", string.IsNullOrWhiteSpace(ns) ? null : ns))!;
            await process.StandardInput.WriteAsync(script).ConfigureAwait(false);
            process.StandardInput.Close();
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return process.ExitCode == 0 ? null : (await error.ConfigureAwait(false)).Trim();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return e.Message;
        }
    }
}

/// <summary>Takes drill commands from the bus, on the durable queue <c>lvs-health-commands-NODE</c> (commands only, see <see cref="CommandBatch"/>).</summary>
public sealed class HealthDrillConsumer(HealthDrillHandler handler) : IConsumer<CommandBatch>
{
    public const string QueuePrefix = "lvs-health-commands-";

    public async Task Consume(ConsumeContext<CommandBatch> context)
    {
        foreach (var e in context.Message.Batch.Read())
        {
            if (e is DrillCommand { Drill: DrillKind.BackendOutage } drill)
            {
                await handler.HandleAsync(drill, context.CancellationToken).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>Registration of the drill hook (the service's Program adds these two calls).</summary>
public static class HealthDrills
{
    public static void Add(HostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HealthDrillOptions>().Bind(builder.Configuration.GetSection(HealthDrillOptions.Section));
        builder.Services.AddSingleton<HealthDrillHandler>();
    }

    public static void AddConsumer(IBusRegistrationConfigurator bus, string[] args)
    {
        // The bus endpoint is registered before the host's configuration exists: read the node id here.
        var early = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        var queue = HealthDrillConsumer.QueuePrefix + (early["Eventing:NodeId"] is { Length: > 0 } node ? node : Environment.MachineName);
        bus.AddConsumer<HealthDrillConsumer>().Endpoint(endpoint => endpoint.Name = queue);
        bus.AddConfigureEndpointsCallback((name, endpoint) =>
        {
            if (name == queue && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
            {
                rabbit.SetQueueArgument("x-expires", (int)TimeSpan.FromDays(1).TotalMilliseconds);
            }
        });
    }
}
