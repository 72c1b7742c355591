using System.Diagnostics;
using System.Net.Sockets;
using LvsEvents.Netlink;

namespace LvsEvents.Health.Checking;

/// <summary>
/// Where probes run: this process's network namespace, or the one named by <c>Health:NetworkNamespace</c>
/// (a director in a namespace while the service reaches the bus from the host, as in the lab). Set once at
/// start, before any probe runs.
/// </summary>
public static class ProbeNetwork
{
    private static NamespaceSocketFactory? _namespace;

    public static string? NamespaceName => _namespace?.Name;

    public static void UseNamespace(string? name)
    {
        _namespace?.Dispose();
        _namespace = string.IsNullOrWhiteSpace(name) ? null : new NamespaceSocketFactory(name);
    }

    public static Socket CreateSocket(AddressFamily family, SocketType type, ProtocolType protocol)
        => _namespace?.Create(family, type, protocol) ?? new Socket(family, type, protocol);

    /// <summary>/bin/sh -c COMMAND, inside the namespace when there is one.</summary>
    public static ProcessStartInfo Shell(string command) => NetworkNamespace.Shell(command, _namespace?.Name);
}
