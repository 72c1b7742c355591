using LvsEvents.Contracts;
using LvsEvents.Health.State;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.Health.Scheduling;

/// <summary>A virtual service being checked: its real servers and its quorum. <see cref="Gate"/> guards their shared state.</summary>
public sealed class MonitoredVirtualService(VirtualServiceRef reference, VirtualServer configuration)
{
    public VirtualServiceRef Ref => reference;

    public VirtualServer Configuration => configuration;

    public List<MonitoredRealServer> RealServers { get; } = [];

    /// <summary>Set once the real servers are known (their initial states decide the initial quorum).</summary>
    public QuorumState Quorum { get; set; } = new(configuration.Quorum, configuration.Hysteresis, 0);

    public Lock Gate { get; } = new();

    /// <summary>The service was already checked before a reload (its quorum state is carried over, not announced again).</summary>
    public bool CarriedOver { get; set; }

    /// <summary>The sum of the weights of the live real servers (under <see cref="Gate"/>).</summary>
    public int LiveWeight()
    {
        long sum = 0;
        foreach (var server in RealServers)
        {
            sum += server.Health.LiveWeight;
        }

        return (int)Math.Min(sum, int.MaxValue);
    }

    public bool SorryServerActive => !Quorum.IsUp && configuration.SorryServer is not null;

    public static VirtualServiceRef ReferenceOf(VirtualServer server)
    {
        var protocol = server.Protocol ?? "TCP";
        return server.Kind switch
        {
            VirtualServerKind.Fwmark => VirtualServiceRef.ForFirewallMark((uint)(server.Fwmark ?? 0), protocol),
            VirtualServerKind.Group => new VirtualServiceRef(protocol, "", 0, Group: server.GroupName),
            _ => new VirtualServiceRef(protocol, server.Address ?? "", server.Port ?? 0),
        };
    }
}

/// <summary>A real server being checked, with its checkers (<see cref="Health"/> is guarded by its service's gate).</summary>
public sealed class MonitoredRealServer(MonitoredVirtualService service, RealServerRef reference, RealServer configuration)
{
    public MonitoredVirtualService Service => service;

    public RealServerRef Ref => reference;

    public RealServer Configuration => configuration;

    public List<CheckRunner> Checkers { get; } = [];

    public RealServerHealth Health { get; set; } = new(configuration.Weight, false, []);
}
