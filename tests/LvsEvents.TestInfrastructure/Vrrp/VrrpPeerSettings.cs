using System.Globalization;
using System.Net;

namespace LvsEvents.TestInfrastructure.Vrrp;

/// <summary>One node's vrrp_instance, rendered as keepalived.conf for keepalived and for lvs-vrrp alike.</summary>
public sealed record VrrpPeerSettings
{
    public required string RouterId { get; init; }
    public required IPAddress Vip { get; init; }
    public int Priority { get; init; } = 100;
    public bool StartAsMaster { get; init; }
    public double AdvertInterval { get; init; } = 1;
    public int Version { get; init; } = 2;
    public int VirtualRouterId { get; init; } = 51;
    public string? Password { get; init; } = "s3cret";
    public IPAddress? UnicastSource { get; init; }
    public IReadOnlyList<IPAddress> UnicastPeers { get; init; } = [];
    public bool Nopreempt { get; init; }
    public string InstanceName { get; init; } = "VI_1";
    /// <summary>Extra lines inside the instance block.</summary>
    public string Extra { get; init; } = "";

    /// <summary>A whole keepalived.conf instead of the single instance above; <c>NET_NAMESPACE</c> in it becomes the node's.</summary>
    public string? RawConfig { get; init; }

    public string Render(string? networkNamespace = null)
    {
        if (RawConfig is not null)
            return RawConfig.Replace("NET_NAMESPACE", networkNamespace is null ? "" : "net_namespace " + networkNamespace, StringComparison.Ordinal);
        var interval = AdvertInterval.ToString(CultureInfo.InvariantCulture);
        var auth = Version == 2 && Password is not null ? $$"""
                authentication {
                  auth_type PASS
                  auth_pass {{Password}}
                }
            """ : "";
        var unicast = UnicastPeers.Count == 0 ? "" : $$"""
                unicast_src_ip {{UnicastSource}}
                unicast_peer {
                  {{string.Join("\n      ", UnicastPeers)}}
                }
            """;
        return $$"""
            global_defs {
              router_id {{RouterId}}
              {{(networkNamespace is null ? "" : "net_namespace " + networkNamespace)}}
              vrrp_version {{Version}}
              vrrp_garp_master_delay 1
            }
            vrrp_instance {{InstanceName}} {
              state {{(StartAsMaster ? "MASTER" : "BACKUP")}}
              interface eth0
              virtual_router_id {{VirtualRouterId}}
              version {{Version}}
              priority {{Priority}}
              advert_int {{interval}}
              {{(Nopreempt ? "nopreempt" : "")}}
            {{auth}}
            {{unicast}}
              virtual_ipaddress {
                {{Vip}}/24 dev eth0
              }
            {{Extra}}
            }
            """;
    }
}
