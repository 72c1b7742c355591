using System.Collections.Immutable;
using LvsEvents.Keepalived.Model;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Configuration;

/// <summary>
/// The keepalived configuration a service runs from: the one read while the host was built (a service with an invalid
/// file never starts), then replaced only by <see cref="ConfigurationReloader"/> with a valid, different one.
/// </summary>
public sealed class RunningConfiguration
{
    private readonly ILogger<RunningConfiguration> _logger;
    private readonly Lock _gate = new();
    private ImmutableList<ConfigurationObserver> _observers = [];
    private LoadedConfiguration _loaded;

    public RunningConfiguration(LoadedConfiguration initial, ILogger<RunningConfiguration> logger)
    {
        _logger = logger;
        _loaded = initial;
        ConfigurationWarnings.Log(logger, initial);
    }

    /// <summary>The running configuration with its file and hash.</summary>
    public LoadedConfiguration Loaded => Volatile.Read(ref _loaded);

    /// <summary>The running typed model.</summary>
    public KeepalivedConfiguration Current => Loaded.Model;

    /// <summary>
    /// Calls <paramref name="observer"/> after every reload that changed something, in subscription order, with the old
    /// and new configuration and the change list. Dispose the result to stop. A failing observer is logged and does not
    /// stop the others: the new configuration is in force either way.
    /// </summary>
    public IDisposable Subscribe(string name, Func<ConfigurationChangedNotification, CancellationToken, ValueTask> observer)
    {
        var entry = new ConfigurationObserver(name, observer);
        lock (_gate)
        {
            _observers = _observers.Add(entry);
        }

        return new Subscription(this, entry);
    }

    /// <summary>Makes the change's new configuration the running one and tells the observers.</summary>
    internal async Task ApplyAsync(ConfigurationChangedNotification change, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _loaded, change.Current);
        ImmutableList<ConfigurationObserver> observers;
        lock (_gate)
        {
            observers = _observers;
        }

        foreach (var observer in observers)
        {
            try
            {
                await observer.Callback(change, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.LogError(e, "{Observer} failed to apply the reload of {File} (hash {Hash})", observer.Name, change.Current.File, change.Current.Hash);
            }
        }
    }

    private void Unsubscribe(ConfigurationObserver entry)
    {
        lock (_gate)
        {
            _observers = _observers.Remove(entry);
        }
    }

    private sealed record ConfigurationObserver(string Name, Func<ConfigurationChangedNotification, CancellationToken, ValueTask> Callback);

    private sealed class Subscription(RunningConfiguration owner, ConfigurationObserver entry) : IDisposable
    {
        public void Dispose() => owner.Unsubscribe(entry);
    }
}
