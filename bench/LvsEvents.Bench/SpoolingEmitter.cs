using LvsEvents.Contracts;
using LvsEvents.Eventing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LvsEvents.Bench;

/// <summary>
/// A service process reduced to its event pipeline: emits N alert events (key <c>spool-i</c>) through the
/// durable spool and then keeps delivering until it is killed. The outage tests kill -9 it while the
/// broker is down and start it again to prove nothing spooled is lost.
/// </summary>
internal static class SpoolingEmitter
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArguments(args, "node", "service", "spool", "count");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Eventing:NodeId"] = options.Text("node", "bench-node"),
            ["Eventing:SpoolDirectory"] = options.Text("spool", Path.Combine(Path.GetTempPath(), "lvs-bench-spool")),
            ["Eventing:MaxRetryDelay"] = "00:00:01",
        });
        var service = options.Text("service", "bench-emitter");
        builder.Services.AddLvsEventing(builder.Configuration, service);
        using var host = builder.Build();
        await host.StartAsync();

        var emitter = host.Services.GetRequiredService<IEventEmitter>();
        var count = options.Number("count", 0);
        for (var i = 0; i < count; i++)
        {
            await emitter.EmitAsync(new AlertRaised
            {
                AlertKey = $"spool-{i}",
                Rule = "spool-test",
                Severity = AlertSeverity.Info,
                Subject = service,
                Message = $"event {i} of {count}",
            });
        }

        // The test waits for this line before it kills the process: all N are on disk now.
        Console.WriteLine($"emitted {count}");
        await host.WaitForShutdownAsync();
        return 0;
    }
}
