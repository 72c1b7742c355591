using System.Net.NetworkInformation;
using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>PING_CHECK: one ICMP echo within connect_timeout (.NET uses a raw or ping socket when it may).</summary>
public sealed class PingProbe(ProbeTarget target) : IProbe
{
    private static readonly byte[] Payload = "keepalived-lvs-health"u8.ToArray();

    public string Label { get; } = $"PING_CHECK {target.Endpoint.Address}";

    public async ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
    {
        if (ProbeNetwork.NamespaceName is not null)
        {
            // .NET's Ping opens its socket in this process's namespace; inside a director namespace, ping(8) runs there.
            var seconds = Math.Max(1, (int)Math.Ceiling(target.Timeout.TotalSeconds));
            var probe = new MiscProbe($"ping -n -q -c 1 -W {seconds} {target.Endpoint.Address}", target.Timeout + TimeSpan.FromSeconds(1), dynamic: false);
            var outcome = await probe.ProbeAsync(cancellationToken).ConfigureAwait(false);
            return outcome.Success ? ProbeOutcome.Up("echo reply") : ProbeOutcome.Failed(ProbeErrorClass.Timeout, "no echo reply");
        }

        using var ping = new Ping();
        try
        {
            var reply = await ping.SendPingAsync(target.Endpoint.Address, target.Timeout, Payload, null, cancellationToken).ConfigureAwait(false);
            return reply.Status switch
            {
                IPStatus.Success => ProbeOutcome.Up($"echo reply in {reply.RoundtripTime} ms"),
                IPStatus.TimedOut or IPStatus.TimeExceeded => ProbeOutcome.Failed(ProbeErrorClass.Timeout, "no echo reply"),
                IPStatus.DestinationHostUnreachable or IPStatus.DestinationNetworkUnreachable or IPStatus.DestinationUnreachable
                    => ProbeOutcome.Failed(ProbeErrorClass.Unreachable, reply.Status.ToString()),
                _ => ProbeOutcome.Failed(ProbeErrorClass.Other, reply.Status.ToString()),
            };
        }
        catch (PingException e)
        {
            return ProbeOutcome.Failed(ProbeErrorClass.Other, e.InnerException?.Message ?? e.Message);
        }
    }
}
