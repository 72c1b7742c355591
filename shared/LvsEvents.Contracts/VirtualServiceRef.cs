namespace LvsEvents.Contracts;

/// <summary>
/// A virtual service as keepalived names it: an address, port and protocol, or a firewall mark, or a
/// virtual_server_group. Printed as <c>TCP/192.168.1.100:80</c>, <c>FWM/1</c> or <c>GROUP/name</c>.
/// </summary>
public sealed record VirtualServiceRef(string Protocol, string Address, int Port, uint? FirewallMark = null, string? Group = null)
{
    public static VirtualServiceRef Tcp(string address, int port) => new("TCP", address, port);

    public static VirtualServiceRef ForFirewallMark(uint mark, string protocol = "TCP") => new(protocol, "", 0, mark);

    public override string ToString() =>
        Group is not null ? $"GROUP/{Group}"
        : FirewallMark is { } mark ? $"FWM/{mark}"
        : Address.Contains(':') ? $"{Protocol}/[{Address}]:{Port}"
        : $"{Protocol}/{Address}:{Port}";
}

/// <summary>A real server of one virtual service. Printed as <c>TCP/192.168.1.100:80-&gt;192.168.1.20:80</c>.</summary>
public sealed record RealServerRef(VirtualServiceRef VirtualService, string Address, int Port)
{
    public override string ToString() =>
        Address.Contains(':') ? $"{VirtualService}->[{Address}]:{Port}" : $"{VirtualService}->{Address}:{Port}";
}
