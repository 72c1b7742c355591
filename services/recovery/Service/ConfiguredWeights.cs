using LvsEvents.Contracts;
using LvsEvents.Keepalived.Model;
using LvsEvents.Recovery.Policy;

namespace LvsEvents.Recovery.Service;

/// <summary>The configured weight of each real_server, named as the health service names it (its own port, 0 if none).</summary>
public static class ConfiguredWeights
{
    public static IReadOnlyDictionary<RealServerRef, int> Of(KeepalivedConfiguration configuration)
    {
        var weights = new Dictionary<RealServerRef, int>();
        foreach (var vs in configuration.VirtualServers)
        {
            var protocol = (vs.Protocol ?? "TCP").ToUpperInvariant();
            VirtualServiceRef service = vs.Kind switch
            {
                VirtualServerKind.Fwmark => VirtualServiceRef.ForFirewallMark((uint)(vs.Fwmark ?? 0), protocol),
                VirtualServerKind.Group => new VirtualServiceRef(protocol, "", 0, Group: vs.GroupName),
                _ => new VirtualServiceRef(protocol, vs.Address ?? "", vs.Port ?? 0),
            };
            foreach (var rs in vs.RealServers)
            {
                weights[RealServerNames.Normalize(new RealServerRef(service, rs.Address, rs.Port ?? 0))] = rs.Weight;
            }
        }

        return weights;
    }
}
