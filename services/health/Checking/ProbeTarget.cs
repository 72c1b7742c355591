using System.Net;

namespace LvsEvents.Health.Checking;

/// <summary>
/// Where a checker connects: connect_ip/connect_port, else the real server's address and port; from bindto/bind_port
/// when given; within the checker's time limit.
/// </summary>
public sealed record ProbeTarget(IPEndPoint Endpoint, IPAddress? BindAddress, int? BindPort, TimeSpan Timeout)
{
    public IPEndPoint? LocalEndpoint =>
        BindAddress is null && BindPort is null
            ? null
            : new IPEndPoint(BindAddress ?? (Endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any), BindPort ?? 0);

    public override string ToString() => Endpoint.ToString();
}
