using System.Net.Sockets;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Netlink;

namespace LvsEvents.IpvsWriter.Statistics;

/// <summary>
/// Reads the kernel table with its counters for the statistics poller, through its own connection to the backend (the
/// reconciler's backend is the reconciler's alone: it is never called concurrently). IPVS counts everything itself;
/// for nftables the per-destination numbers come from conntrack (<see cref="ConntrackCounters"/>) in the same network
/// namespace, and the per-service connection count from the service rule's nft counter.
/// </summary>
public sealed class KernelStatisticsReader : IDisposable
{
    private const string AccountingSysctl = "/proc/sys/net/netfilter/nf_conntrack_acct";
    private readonly IKernelTableBackend _backend;
    private readonly ConntrackSocket? _conntrack;
    private readonly ConntrackCounters _counters = new();
    private readonly string? _networkNamespace;

    private KernelStatisticsReader(IKernelTableBackend backend, ConntrackSocket? conntrack, string? networkNamespace)
    {
        _backend = backend;
        _conntrack = conntrack;
        _networkNamespace = networkNamespace;
    }

    /// <summary><c>ipvs</c> or <c>nftables</c>.</summary>
    public string Backend => _backend.Name;

    /// <summary>A reader for the backend the writer chose (<paramref name="backend"/>: <c>ipvs</c> or <c>nftables</c>).</summary>
    public static KernelStatisticsReader Create(string backend, string? networkNamespace)
    {
        var ns = string.IsNullOrWhiteSpace(networkNamespace) ? null : networkNamespace;
        if (backend == IpvsBackend.BackendName)
        {
            var client = ns is null ? LvsEvents.Ipvs.IpvsClient.Open() : LvsEvents.Ipvs.IpvsClient.OpenInNamespace(ns);
            return new KernelStatisticsReader(new IpvsBackend(client), null, ns);
        }

        // Reads only: no netlink write socket.
        var nft = new NftablesBackend(new LibNftables(ns), netlink: false);
        try
        {
            return new KernelStatisticsReader(nft, ConntrackSocket.Open(ns), ns);
        }
        catch
        {
            nft.Dispose();
            throw;
        }
    }

    /// <summary>The table as the kernel holds it, with cumulative counters per service and destination.</summary>
    public async Task<KernelStatisticsReading> ReadAsync(CancellationToken cancellationToken)
    {
        var table = await _backend.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (_conntrack is null)
        {
            return new KernelStatisticsReading(table, null);
        }

        // The nftables backend programs IPv4 only.
        var entries = await _conntrack.DumpAsync(AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false);
        var statistics = _counters.Update(table, entries, AccountingEnabled());
        return new KernelStatisticsReading(table with { DestinationStatistics = statistics }, _counters.Unanswered);
    }

    /// <summary>Whether conntrack counts packets and bytes in the table's namespace (the sysctl is per namespace).</summary>
    public bool AccountingEnabled()
    {
        try
        {
            return NetworkNamespace.Run(_networkNamespace, () => File.Exists(AccountingSysctl) && File.ReadAllText(AccountingSysctl).Trim() == "1");
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _backend.Dispose();
        _conntrack?.Dispose();
    }
}

/// <summary>
/// One reading: the table with its counters and, where conntrack is read (nftables), the connections per destination
/// left unanswered so far (cumulative; null under IPVS).
/// </summary>
public sealed record KernelStatisticsReading(KernelTable Table, IReadOnlyDictionary<(ServiceKey, DestinationKey), long>? Unanswered);
