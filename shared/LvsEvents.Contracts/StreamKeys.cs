namespace LvsEvents.Contracts;

/// <summary>
/// The streams the store keeps: one per node, per VRRP instance per node, per virtual service, per real
/// server. Keys are readable strings so an operator can name a stream on the command line.
/// </summary>
public static class StreamKeys
{
    public static string Node(string nodeId) => $"node:{nodeId}";

    public static string VrrpInstance(string nodeId, string instance) => $"vrrp:{nodeId}:{instance}";

    public static string VirtualService(VirtualServiceRef service) => $"vs:{service}";

    public static string RealServer(RealServerRef server) => $"rs:{server}";
}
