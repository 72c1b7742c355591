using System.Net;
using System.Net.Sockets;

namespace LvsEvents.Netlink;

/// <summary>rtnetlink address scopes (rt_scope_t): how far the address is valid.</summary>
public enum AddressScope : byte
{
    Universe = 0,
    Site = 200,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}

/// <summary>
/// An address a VIP owner puts on (or takes off) an interface, with what <c>ip addr add ... label L brd B scope S</c> sets.
/// </summary>
public sealed record VirtualAddress(
    IPAddress Address,
    int PrefixLength,
    string Interface,
    string? Label = null,
    IPAddress? Broadcast = null,
    AddressScope Scope = AddressScope.Universe)
{
    // IFNAMSIZ is 16 including the NUL; the kernel truncates longer labels silently, so refuse them instead.
    public const int MaxNameLength = 15;

    public void Validate()
    {
        var max = Address.AddressFamily switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => throw new ArgumentException($"{Address}: only IPv4 and IPv6 addresses can be assigned"),
        };
        if (PrefixLength < 0 || PrefixLength > max)
        {
            throw new ArgumentException($"{this}: prefix length must be 0..{max}");
        }
        if (string.IsNullOrEmpty(Interface) || Interface.Length > MaxNameLength)
        {
            throw new ArgumentException($"{this}: interface name must be 1..{MaxNameLength} characters");
        }
        if (Label is not null && (Label.Length == 0 || Label.Length > MaxNameLength))
        {
            throw new ArgumentException($"{this}: label must be 1..{MaxNameLength} characters");
        }
        if (Broadcast is not null && (Broadcast.AddressFamily != AddressFamily.InterNetwork
                                      || Address.AddressFamily != AddressFamily.InterNetwork))
        {
            throw new ArgumentException($"{this}: a broadcast address exists only for IPv4");
        }
    }

    public override string ToString() => $"{Address}/{PrefixLength}";
}
