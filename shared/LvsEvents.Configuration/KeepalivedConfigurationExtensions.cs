using LvsEvents.Eventing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LvsEvents.Configuration;

public static class KeepalivedConfigurationExtensions
{
    /// <summary>
    /// For a service's <c>ServiceProgram.RunAsync</c> configure step: maps <c>--config FILE</c> to
    /// <c>Keepalived:File</c> and registers the running configuration, the SIGHUP reloader and the pid file.
    /// </summary>
    public static HostApplicationBuilder AddKeepalivedConfiguration(this HostApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--config"] = $"{KeepalivedConfigurationOptions.Section}:File" });
        var initial = builder.Services.RegisterKeepalivedConfiguration(builder.Configuration);
        // For services that check their part of the configuration before the host starts (see InitialConfiguration).
        ((IHostApplicationBuilder)builder).Properties[typeof(LoadedConfiguration)] = initial;
        return builder;
    }

    /// <summary>
    /// Reads keepalived.conf now and registers the parts; needs <see cref="EventingServiceCollectionExtensions.AddLvsEventing"/>
    /// (emitter, service identity). An invalid file throws <see cref="ConfigurationException"/> listing every located
    /// error. Reading here, before the host is built, keeps the host from logging that exception with a stack trace.
    /// </summary>
    public static IServiceCollection AddKeepalivedConfiguration(this IServiceCollection services, IConfiguration configuration)
    {
        services.RegisterKeepalivedConfiguration(configuration);
        return services;
    }

    /// <summary>The configuration read at start by <see cref="AddKeepalivedConfiguration(HostApplicationBuilder, string[])"/>.</summary>
    public static LoadedConfiguration InitialConfiguration(this IHostApplicationBuilder builder)
        => builder.Properties.TryGetValue(typeof(LoadedConfiguration), out var loaded) && loaded is LoadedConfiguration configuration
            ? configuration
            : throw new InvalidOperationException("AddKeepalivedConfiguration must run first");

    private static LoadedConfiguration RegisterKeepalivedConfiguration(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(KeepalivedConfigurationOptions.Section).Get<KeepalivedConfigurationOptions>() ?? new KeepalivedConfigurationOptions();
        if (string.IsNullOrWhiteSpace(options.File))
        {
            throw new ConfigurationException("Keepalived:File (or --config FILE) must name the keepalived.conf to run from");
        }

        var reader = new KeepalivedConfigurationReader(options);
        var initial = reader.ReadAtStart(CancellationToken.None);
        services.AddSingleton(Options.Create(options));
        services.AddOptions<RunDirectoryOptions>()
            .Bind(configuration.GetSection(RunDirectoryOptions.Section))
            .Validate(o => !string.IsNullOrWhiteSpace(o.RunDirectory), "Eventing:RunDirectory must name a folder for the pid file")
            .ValidateOnStart();
        services.AddSingleton(reader);
        services.AddSingleton(sp => new RunningConfiguration(initial, sp.GetRequiredService<ILogger<RunningConfiguration>>()));
        services.AddSingleton<ConfigurationReloader>();

        // Order matters: the reloader handles SIGHUP before the pid file tells lvsctl to send it.
        services.AddHostedService(sp => sp.GetRequiredService<ConfigurationReloader>());
        services.AddHostedService<ServicePidFile>();
        return initial;
    }
}
