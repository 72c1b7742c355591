using LvsEvents.Eventing;

// The event pipeline only, for now: the service's own work arrives with its issue.
return await ServiceProgram.RunAsync("health", args, _ => { });
