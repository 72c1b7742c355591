using System.Collections.Concurrent;
using LvsEvents.Netlink;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Vrrp.Tracking;

/// <summary>
/// Watches the link state (up with carrier) of the interfaces instances track, by asking rtnetlink every
/// <c>pollInterval</c>; raises <see cref="Changed"/> on a flip. Interfaces resolve in the VRRP namespace.
/// </summary>
public sealed class InterfaceLinkWatcher(InterfaceAddresses netlink, TimeSpan pollInterval, ILogger logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, bool> _states = new(StringComparer.Ordinal);

    public event Action<string, bool>? Changed;

    public bool IsUp(string interfaceName) => _states.GetValueOrDefault(interfaceName, true);

    /// <summary>Reads the current state of <paramref name="interfaces"/> (at start and after a reload).</summary>
    public async Task WatchAsync(IEnumerable<string> interfaces, CancellationToken cancellationToken)
    {
        foreach (var name in interfaces)
        {
            if (!_states.ContainsKey(name))
                _states[name] = await netlink.IsLinkUpAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(pollInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var name in _states.Keys)
            {
                bool up;
                try
                {
                    up = await netlink.IsLinkUpAsync(name, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Cannot read the link state of {Interface}: {Error}", name, e.Message);
                    continue;
                }
                if (_states.TryGetValue(name, out var was) && was != up)
                {
                    _states[name] = up;
                    logger.LogInformation("Interface {Interface} is {State}", name, up ? "up" : "down");
                    Changed?.Invoke(name, up);
                }
            }
        }
    }

    public void Dispose() => netlink.Dispose();
}
