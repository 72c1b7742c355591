using LvsEvents.Configuration;
using LvsEvents.Eventing;
using LvsEvents.Vrrp;
using LvsEvents.Vrrp.Commands;
using MassTransit;
using Microsoft.Extensions.Configuration;

// lvs-vrrp --config /etc/keepalived/keepalived.conf: the VRRP half of keepalived, with every decision an event.
// The bus endpoint is registered before the host's configuration exists: read the settings it needs here.
var early = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
var nodeId = early["Eventing:NodeId"] is { Length: > 0 } node ? node : Environment.MachineName;
var queueExpiry = early.GetValue("Vrrp:QueueExpiry", TimeSpan.FromDays(1));

return await ServiceProgram.RunAsync("vrrp", args, builder => builder.AddKeepalivedConfiguration(args).AddVrrpSpeaker(), bus =>
{
    // One durable queue per director for the commands it acts on (resign, drills).
    var queue = VrrpCommandConsumer.QueuePrefix + nodeId;
    bus.AddConsumer<VrrpCommandConsumer>().Endpoint(endpoint => endpoint.Name = queue);
    bus.AddConfigureEndpointsCallback((name, endpoint) =>
    {
        if (name == queue && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
            rabbit.SetQueueArgument("x-expires", (int)Math.Clamp(queueExpiry.TotalMilliseconds, 1000, int.MaxValue));
    });
});
