using LvsEvents.Configuration;
using LvsEvents.Eventing;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Reconciliation;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// lvs-ipvs-writer --config FILE [--backend auto|ipvs|nftables]
return await ServiceProgram.RunAsync(
    "ipvs-writer",
    args,
    builder =>
    {
        builder.AddKeepalivedConfiguration(args);
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--backend"] = $"{WriterOptions.Section}:Backend" });
        builder.Services.AddOptions<WriterOptions>().Bind(builder.Configuration.GetSection(WriterOptions.Section));
        builder.Services.AddSingleton<IKernelTableBackend>(sp => BackendSelector.Create(
            sp.GetRequiredService<IOptions<WriterOptions>>().Value.Backend,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("LvsEvents.IpvsWriter.Backend")));
        builder.Services.AddSingleton(sp => new Reconciler(
            sp.GetRequiredService<IKernelTableBackend>(),
            sp.GetRequiredService<IEventEmitter>(),
            sp.GetRequiredService<RunningConfiguration>().Current,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Reconciler>>()));
        builder.Services.AddHostedService<ReconcilerService>();
    },
    bus => bus.AddConsumer<WriterEventConsumer>().Endpoint(endpoint =>
    {
        // One durable queue per director: both program their tables whatever their VRRP state.
        endpoint.Name = WriterEventConsumer.QueuePrefix.TrimEnd('-');
        endpoint.InstanceId = Environment.GetEnvironmentVariable("Eventing__NodeId") is { Length: > 0 } node ? node : Environment.MachineName;
    }));
