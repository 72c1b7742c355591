using System.Globalization;

namespace LvsEvents.Keepalived.Model;

/// <summary>A virtual_server block with keepalived's documented defaults applied.</summary>
public sealed record VirtualServer
{
    public required VirtualServerKind Kind { get; init; }

    public string? Address { get; init; }

    /// <summary>May be omitted only for a persistent service.</summary>
    public int? Port { get; init; }

    public long? Fwmark { get; init; }

    public string? GroupName { get; init; }

    /// <summary>Seconds between checks; default 60.</summary>
    public double DelayLoop { get; init; } = 60;

    /// <summary>lb_algo / lvs_sched; keepalived uses wlc when none is set.</summary>
    public string Scheduler { get; init; } = "wlc";

    /// <summary>lb_kind / lvs_method; default NAT.</summary>
    public ForwardingMethod ForwardingMethod { get; init; } = ForwardingMethod.Nat;

    /// <summary>Seconds; null when the service is not persistent. The keyword without a value means 360.</summary>
    public int? PersistenceTimeout { get; init; }

    /// <summary>Netmask as written (<c>255.255.255.0</c>, or a prefix length for IPv6).</summary>
    public string? PersistenceGranularity { get; init; }

    public string? PersistenceEngine { get; init; }

    /// <summary>TCP, UDP or SCTP; null when not set (keepalived then defaults to UDP and complains).</summary>
    public string? Protocol { get; init; }

    public SorryServer? SorryServer { get; init; }

    public bool SorryServerInhibit { get; init; }

    /// <summary>Minimum total weight of live real servers; default 1.</summary>
    public int Quorum { get; init; } = 1;

    public int Hysteresis { get; init; }

    public bool Alpha { get; init; }

    public bool Omega { get; init; }

    public bool InhibitOnFailure { get; init; }

    public bool HaSuspend { get; init; }

    public string? Virtualhost { get; init; }

    public ScriptInvocation? QuorumUp { get; init; }

    public ScriptInvocation? QuorumDown { get; init; }

    public bool? SmtpAlert { get; init; }

    public IReadOnlyList<RealServer> RealServers { get; init; } = [];

    public IReadOnlyList<PassThroughSetting> OtherSettings { get; init; } = [];

    public required SourceLocation Location { get; init; }

    /// <summary>What identifies the service across reloads, e.g. <c>192.168.1.100:80/TCP</c>.</summary>
    public string Key
    {
        get
        {
            var protocol = Protocol ?? "-";
            return Kind switch
            {
                VirtualServerKind.Fwmark => $"fwmark {Fwmark?.ToString(CultureInfo.InvariantCulture)}/{protocol}",
                VirtualServerKind.Group => $"group {GroupName}/{protocol}",
                _ => $"{EndpointFormat.Format(Address ?? "?", Port)}/{protocol}",
            };
        }
    }
}
