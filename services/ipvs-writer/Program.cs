using LvsEvents.Configuration;
using LvsEvents.Eventing;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Reconciliation;
using LvsEvents.IpvsWriter.Statistics;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// lvs-ipvs-writer --config FILE [--backend auto|ipvs|nftables]
// The bus endpoint is registered before the host's configuration exists: read the two settings it needs here.
var early = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
var nodeId = early["Eventing:NodeId"] is { Length: > 0 } node ? node : Environment.MachineName;
var queueExpiry = early.GetValue(WriterOptions.Section + ":QueueExpiry", TimeSpan.FromDays(1));

return await ServiceProgram.RunAsync(
    "ipvs-writer",
    args,
    builder =>
    {
        builder.AddKeepalivedConfiguration(args);
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--backend"] = $"{WriterOptions.Section}:Backend" });
        builder.Services.AddOptions<WriterOptions>().Bind(builder.Configuration.GetSection(WriterOptions.Section));
        builder.Services.AddSingleton<IKernelTableBackend>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<WriterOptions>>().Value;
            return BackendSelector.Create(
                options.Backend,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("LvsEvents.IpvsWriter.Backend"),
                string.IsNullOrWhiteSpace(options.NetworkNamespace) ? null : options.NetworkNamespace);
        });
        builder.Services.AddSingleton(sp => new Reconciler(
            sp.GetRequiredService<IKernelTableBackend>(),
            sp.GetRequiredService<IEventEmitter>(),
            sp.GetRequiredService<RunningConfiguration>().Current,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Reconciler>>()));
        builder.Services.AddHostedService<ReconcilerService>();
        builder.AddKernelStatistics();
    },
    bus =>
    {
        // One durable queue per director (both program their tables whatever their VRRP state): events published
        // while the writer is down wait for it. A queue nobody consumed for QueueExpiry (a retired director's) goes.
        var queue = WriterEventConsumer.QueuePrefix + nodeId;
        bus.AddConsumer<WriterEventConsumer>().Endpoint(endpoint => endpoint.Name = queue);
        bus.AddConfigureEndpointsCallback((name, endpoint) =>
        {
            if (name == queue && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
            {
                rabbit.SetQueueArgument("x-expires", (int)Math.Clamp(queueExpiry.TotalMilliseconds, 1000, int.MaxValue));
            }
        });
    });
