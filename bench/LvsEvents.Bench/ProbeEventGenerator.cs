using LvsEvents.Contracts;

namespace LvsEvents.Bench;

/// <summary>
/// A realistic mix: mostly probe results of 1,000 real servers, with a health change, a weight change
/// and a kernel rule now and then.
/// </summary>
internal sealed class ProbeEventGenerator(string nodeId)
{
    private readonly Random _random = new(7);
    private long _n;

    public LvsEvent Next()
    {
        var n = _n++;
        // A 1,000-real-server cluster: 10 virtual services of 100 real servers, probed in turn.
        var index = (int)(n % 1000);
        var service = VirtualServiceRef.Tcp($"10.0.{index / 100}.100", 80);
        var server = new RealServerRef(service, $"10.1.{index / 100}.{index % 100 + 1}", 80);
        return (n % 1000) switch
        {
            0 => new RealServerHealthChanged { RealServer = server, From = HealthState.Up, To = HealthState.Down, Checker = "TCP_CHECK", Reason = "refused" },
            1 => new RealServerWeightChanged { RealServer = server, OldWeight = 3, NewWeight = 0, Cause = WeightChangeCause.Health },
            2 => new KernelRuleApplied { Backend = "nftables", Operation = KernelOperation.EditDestination, VirtualService = service, RealServer = server, Before = "-w 3", After = "-w 0" },
            _ => new ProbeCompleted
            {
                RealServer = server,
                Checker = n % 2 == 0 ? "TCP_CHECK" : "HTTP_GET /health",
                Success = _random.Next(100) != 0,
                Latency = TimeSpan.FromMicroseconds(200 + _random.Next(3000)),
                NodeId = nodeId,
            },
        };
    }
}
