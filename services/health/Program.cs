using LvsEvents.Configuration;
using LvsEvents.Eventing;
using LvsEvents.Health;

// lvs-health --config /etc/keepalived/keepalived.conf: checks every real server, every result an event.
return await ServiceProgram.RunAsync("health", args, builder =>
{
    builder.AddKeepalivedConfiguration(args);
    builder.Services.AddHealthChecking(builder.Configuration);
    LvsEvents.Health.Reporting.HealthGauges.AddHealthGauges(builder.Services);
    LvsEvents.Health.Drills.HealthDrills.Add(builder);
}, bus => LvsEvents.Health.Drills.HealthDrills.AddConsumer(bus, args));
