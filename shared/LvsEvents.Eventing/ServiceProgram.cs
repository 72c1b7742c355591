using LvsEvents.Eventing.Spool;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Eventing;

/// <summary>
/// The shared entry point of the services: a Generic Host with the event pipeline, single-line logs, and
/// one clear line instead of a stack trace when a setting is wrong.
/// </summary>
public static class ServiceProgram
{
    public static async Task<int> RunAsync(
        string serviceName,
        string[] args,
        Action<HostApplicationBuilder> configure,
        Action<MassTransit.IBusRegistrationConfigurator>? addConsumers = null)
    {
        try
        {
            var builder = Host.CreateApplicationBuilder(args);
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
            builder.Services.AddLvsEventing(builder.Configuration, serviceName, addConsumers);
            configure(builder);
            // The broker's client logs every failed reconnect with a stack trace; SpoolPublisher says it in one line.
            builder.Logging.AddFilter("MassTransit", LogLevel.Error);
            // HttpClient logs each request at Information, and a refused connection with its stack trace; the
            // metrics writer reports an unreachable InfluxDB itself, in one line.
            builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
            using var host = builder.Build();
            // Open the spool before the host starts: a host that fails to start logs the error with a stack
            // trace before this method can say it in one line.
            host.Services.GetRequiredService<DurableEventSpool>();
            await host.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (FindOperatorError(e) is { } message)
        {
            await Console.Error.WriteLineAsync($"lvs-{serviceName}: {message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static string? FindOperatorError(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is ConfigurationException or SpoolUnavailableException or OptionsValidationException)
            {
                return e.Message;
            }

            if (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
            {
                return FindOperatorError(aggregate.InnerExceptions[0]);
            }
        }

        return null;
    }
}
