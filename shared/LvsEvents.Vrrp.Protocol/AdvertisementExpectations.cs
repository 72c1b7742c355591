using System.Net;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>What one VRRP instance expects of the adverts it receives.</summary>
public sealed record AdvertisementExpectations
{
    public required VrrpVersion Version { get; init; }
    public required byte VirtualRouterId { get; init; }

    /// <summary>Our own Adver_Interval (v2: whole seconds).</summary>
    public required TimeSpan AdvertisementInterval { get; init; }

    /// <summary>The instance's virtual addresses, as they appear in its adverts.</summary>
    public IReadOnlyList<IPAddress> VirtualAddresses { get; init; } = [];

    /// <summary>v2 only.</summary>
    public VrrpAuthenticationType AuthenticationType { get; init; }

    /// <summary>v2 PASS: 8 bytes, zero padded (<see cref="VrrpPassword.ToAuthenticationData"/>).</summary>
    public ReadOnlyMemory<byte> AuthenticationData { get; init; } = new byte[VrrpPassword.Length];

    /// <summary>keepalived skips the TTL check in unicast mode (a unicast peer may be routed).</summary>
    public bool CheckTimeToLive { get; init; } = true;

    public AddressListMismatchPolicy AddressListMismatch { get; init; } = AddressListMismatchPolicy.Accept;

    /// <summary>When set (keepalived's <c>check_unicast_src</c>), only these sources are accepted.</summary>
    public IReadOnlyCollection<IPAddress>? AllowedSources { get; init; }
}
