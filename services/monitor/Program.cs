using LvsEvents.Eventing;
using LvsEvents.EventStore;
using LvsEvents.Monitor;
using LvsEvents.Monitor.Recording;

return await ServiceProgram.RunAsync(
    "monitor",
    args,
    builder => builder.Services.AddMonitor(builder.Configuration),
    bus => bus.AddRecorder());
