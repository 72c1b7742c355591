using LvsEvents.Configuration;
using LvsEvents.Eventing;
using LvsEvents.Recovery.Policy;
using LvsEvents.Recovery.Service;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// lvs-recovery --config FILE [--Recovery:SlowStart:Steps 10,25,50,100 --Recovery:SlowStart:Interval 00:00:30 ...]
// The bus endpoint is registered before the host's configuration exists: read the two settings it needs here.
var early = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
var nodeId = early["Eventing:NodeId"] is { Length: > 0 } node ? node : Environment.MachineName;
var queueExpiry = early.GetValue(RecoveryOptions.Section + ":QueueExpiry", TimeSpan.FromDays(1));

return await ServiceProgram.RunAsync(
    "recovery",
    args,
    builder =>
    {
        builder.AddKeepalivedConfiguration(args);
        builder.Services.AddOptions<RecoveryOptions>()
            .Bind(builder.Configuration.GetSection(RecoveryOptions.Section))
            .Validate(o => TryParseSteps(o.SlowStart), "Recovery:SlowStart:Steps must be ascending percentages 1..100 ending at 100, e.g. 10,25,50,100")
            .Validate(o => o.FlapHold.Transitions >= 2 && o.FlapHold.Window > TimeSpan.Zero, "Recovery:FlapHold needs Transitions >= 2 and a positive Window")
            .Validate(o => o.SlowStart.Interval > TimeSpan.Zero && o.TickInterval > TimeSpan.Zero, "Recovery:SlowStart:Interval and Recovery:TickInterval must be positive")
            .ValidateOnStart();
        builder.Services.AddSingleton<IReachabilityCheck, PingReachabilityCheck>();
        builder.Services.AddSingleton(sp =>
        {
            var configured = sp.GetRequiredService<IOptions<RecoveryOptions>>().Value.StateFile;
            var path = string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(sp.GetRequiredService<IOptions<EventingOptions>>().Value.SpoolDirectory, "recovery-state.json")
                : configured;
            return new RecoveryStateFile(path, sp.GetRequiredService<ILogger<RecoveryStateFile>>());
        });
        builder.Services.AddSingleton<RecoveryEngine>();
        builder.Services.AddHostedService<RecoveryTicker>();
        builder.Services.AddOptions<CanaryOptions>().Bind(builder.Configuration.GetSection(CanaryOptions.Section))
            .Validate(o => o.DrainTimeout > TimeSpan.Zero, "Recovery:Canary:DrainTimeout must be positive")
            .Validate(o => o.MinimumConnections >= 1, "Recovery:Canary:MinimumConnections must be at least 1").ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var configured = sp.GetRequiredService<IOptions<CanaryOptions>>().Value.StateFile;
            var path = string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(sp.GetRequiredService<IOptions<EventingOptions>>().Value.SpoolDirectory, "recovery-canary.json")
                : configured;
            return new CanaryStateFile(path, sp.GetRequiredService<ILogger<CanaryStateFile>>());
        });
        builder.Services.AddSingleton<CanaryEngine>();
        builder.Services.AddHostedService<CanaryTicker>();
    },
    bus =>
    {
        // One durable queue per director: events published while the service is down wait for it.
        var queue = RecoveryEventConsumer.QueuePrefix + nodeId;
        bus.AddConsumer<RecoveryEventConsumer>().Endpoint(endpoint => endpoint.Name = queue);
        var canaryQueue = CanaryEventConsumer.QueuePrefix + nodeId;
        bus.AddConsumer<CanaryEventConsumer>().Endpoint(endpoint => endpoint.Name = canaryQueue);
        bus.AddConfigureEndpointsCallback((name, endpoint) =>
        {
            if ((name == queue || name == canaryQueue) && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
            {
                rabbit.SetQueueArgument("x-expires", (int)Math.Clamp(queueExpiry.TotalMilliseconds, 1000, int.MaxValue));
            }
        });
    });

static bool TryParseSteps(SlowStartOptions options)
{
    try
    {
        options.ParsedSteps();
        return true;
    }
    catch (FormatException)
    {
        return false;
    }
}
