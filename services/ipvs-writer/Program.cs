using LvsEvents.Configuration;
using LvsEvents.Eventing;

// The event pipeline and the running keepalived configuration (reloaded on SIGHUP); the service's own work arrives with its issue.
return await ServiceProgram.RunAsync("ipvs-writer", args, builder => builder.AddKeepalivedConfiguration(args));
