using System.Net.NetworkInformation;
using LvsEvents.Recovery.Policy;
using Microsoft.Extensions.Options;

namespace LvsEvents.Recovery.Service;

/// <summary>Checks what the split-brain policy weighs: can this node reach its gateway (and its peer).</summary>
public interface IReachabilityCheck
{
    Task<Reachability> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>ICMP echo to <c>Recovery:SplitBrain:Gateway</c> (three tries, 500 ms each), as the article's script pings; unset: not checked.</summary>
public sealed class PingReachabilityCheck(IOptions<RecoveryOptions> options) : IReachabilityCheck
{
    public async Task<Reachability> CheckAsync(CancellationToken cancellationToken)
    {
        var gateway = options.Value.SplitBrain.Gateway;
        return string.IsNullOrWhiteSpace(gateway) ? new Reachability(null, null) : new Reachability(await PingAsync(gateway, cancellationToken).ConfigureAwait(false), null);
    }

    private static async Task<bool> PingAsync(string address, CancellationToken cancellationToken)
    {
        using var ping = new Ping();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                var reply = await ping.SendPingAsync(System.Net.IPAddress.Parse(address), TimeSpan.FromMilliseconds(500), cancellationToken: cancellationToken).ConfigureAwait(false);
                if (reply.Status == IPStatus.Success)
                {
                    return true;
                }
            }
            catch (PingException)
            {
                // No route, no permission: counts as unreachable.
            }
        }

        return false;
    }
}
