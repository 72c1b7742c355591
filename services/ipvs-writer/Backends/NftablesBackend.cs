using System.Text;
using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Table;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// The table in nftables (for kernels without IPVS). Every change is one nft transaction: the services an operation
/// list touches are rewritten (chain flushed and refilled, idle set, dispatch element) in a single batch, so the kernel
/// switches from the old rules to the new ones at once and a refused batch changes nothing. A table whose skeleton is
/// missing or damaged is rebuilt whole, also atomically.
/// Writes go straight to nf_tables over netlink (<see cref="NftablesNetlink"/>: the batch nft would send, without nft's
/// parser); reads, and any write the encoder does not handle, go through libnftables in-process.
/// New connections only are balanced: established ones keep their NAT mapping in conntrack, so removing a destination
/// never cuts a connection, and a drain waits for its timeout (connections are not counted).
/// </summary>
public sealed class NftablesBackend : IKernelTableBackend
{
    public const string BackendName = "nftables";

    private readonly LibNftables _nft;
    private readonly NftablesNetlink? _netlink;
    private readonly ILogger _logger;
    private bool _skeletonIntact;
    private bool _fallbackLogged;
    private int _disposed;
    private Func<string> _lastTransaction = () => "";
    private string? _lastTransactionText;

    /// <param name="nft">libnftables, in the namespace the table lives in: reads, and the fallback for writes.</param>
    /// <param name="netlink">Write through nf_tables netlink (default); false: every write goes through libnftables.</param>
    public NftablesBackend(LibNftables nft, bool netlink = true, ILogger? logger = null)
    {
        _nft = nft;
        _logger = logger ?? NullLogger.Instance;
        if (netlink)
        {
            try
            {
                _netlink = NftablesNetlink.Open(nft.NetworkNamespace);
            }
            catch (IOException e)
            {
                _logger.LogWarning("nftables: cannot open a NETLINK_NETFILTER socket ({Error}); writing through libnftables instead", e.Message);
            }
        }
    }

    public string Name => BackendName;

    public bool ReportsConnections => false;

    /// <summary>netlink (nf_tables batches encoded here) or libnftables (nft's parser in-process).</summary>
    public string WritePath => _netlink is null ? "libnftables" : "netlink";

    /// <summary>The last transaction sent, as nft text (for logs, tests and the benchmark's <c>nft -f</c> peer); built when first asked for.</summary>
    public string LastTransaction => _lastTransactionText ??= _lastTransaction();

    public string? Unsupported(KernelService service) => NftablesRuleset.Unsupported(service);

    public async Task<KernelTable> ReadAsync(CancellationToken cancellationToken)
    {
        string json;
        try
        {
            json = await _nft.RunAsync($"list table {NftablesRuleset.Family} {NftablesRuleset.TableName}", json: true).ConfigureAwait(false);
        }
        catch (KernelTableException e) when (e.Message.Contains("No such file or directory", StringComparison.Ordinal))
        {
            _skeletonIntact = false;
            return KernelTable.Empty;
        }

        var table = NftablesReader.Parse(json);
        _skeletonIntact = table.Problems.IsEmpty;
        return table;
    }

    public async Task ApplyAsync(KernelTable before, IReadOnlyList<TableOperation> operations, KernelTable after, CancellationToken cancellationToken)
    {
        if (operations.Count == 0)
        {
            return;
        }

        if (!_skeletonIntact)
        {
            await ReplaceAsync(after, cancellationToken).ConfigureAwait(false);
            return;
        }

        Remember(() =>
        {
            var text = new StringBuilder();
            foreach (var key in operations.Select(o => o.Service).Distinct())
            {
                if (after.Services.TryGetValue(key, out var service))
                {
                    NftablesRuleset.Service(text, service, fresh: !before.Services.ContainsKey(key));
                }
                else if (operations.Any(o => o.Service == key && o.Kind == KernelOperation.DeleteService))
                {
                    NftablesRuleset.DeleteService(text, key);
                }
            }

            return text.ToString();
        });
        if (Encoder(operations.Select(o => o.Service).Distinct().Select(k => after.Services.GetValueOrDefault(k))) is { } netlink)
        {
            netlink.Patch(before, operations, after);
            return;
        }

        await _nft.RunAsync(LastTransaction).ConfigureAwait(false);
    }

    public async Task ReplaceAsync(KernelTable table, CancellationToken cancellationToken)
    {
        Remember(() => NftablesRuleset.Replace(table));
        if (Encoder(table.Services.Values) is { } netlink)
        {
            netlink.Replace(table);
        }
        else
        {
            await _nft.RunAsync(LastTransaction).ConfigureAwait(false);
        }

        _skeletonIntact = true;
    }

    /// <summary>Closes the netlink socket and the libnftables context; a second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _netlink?.Dispose();
        _nft.Dispose();
    }

    private void Remember(Func<string> text)
    {
        _lastTransaction = text;
        _lastTransactionText = null;
    }

    /// <summary>The netlink writer when it can encode every service of the transaction, else null (libnftables writes it).</summary>
    private NftablesNetlink? Encoder(IEnumerable<KernelService?> services)
    {
        if (_netlink is null)
        {
            return null;
        }

        foreach (var service in services)
        {
            if (service is not null && NftablesNetlinkTransaction.CannotEncode(service) is { } reason)
            {
                if (!_fallbackLogged)
                {
                    _fallbackLogged = true;
                    _logger.LogWarning("nftables: the netlink encoder does not handle {Reason}; such transactions go through libnftables (logged once)", reason);
                }

                return null;
            }
        }

        return _netlink;
    }
}
