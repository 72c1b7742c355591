using System.Text;
using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Table;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// The table in nftables (for kernels without IPVS), through libnftables in-process. Every change is one nft
/// transaction: the services an operation list touches are rewritten (chain flushed and refilled, idle set,
/// dispatch element) in a single batch, so the kernel switches from the old rules to the new ones at once and a
/// refused batch changes nothing. A table whose skeleton is missing or damaged is rebuilt whole, also atomically.
/// New connections only are balanced: established ones keep their NAT mapping in conntrack, so removing a destination
/// never cuts a connection, and a drain waits for its timeout (connections are not counted).
/// </summary>
public sealed class NftablesBackend(LibNftables nft) : IKernelTableBackend
{
    public const string BackendName = "nftables";

    private bool _skeletonIntact;

    public string Name => BackendName;

    public bool ReportsConnections => false;

    /// <summary>The last transaction sent (for logs and tests).</summary>
    public string LastTransaction { get; private set; } = "";

    public string? Unsupported(KernelService service) => NftablesRuleset.Unsupported(service);

    public async Task<KernelTable> ReadAsync(CancellationToken cancellationToken)
    {
        string json;
        try
        {
            json = await nft.RunAsync($"list table {NftablesRuleset.Family} {NftablesRuleset.TableName}", json: true).ConfigureAwait(false);
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

        await RunAsync(text.ToString()).ConfigureAwait(false);
    }

    public async Task ReplaceAsync(KernelTable table, CancellationToken cancellationToken)
    {
        await RunAsync(NftablesRuleset.Replace(table)).ConfigureAwait(false);
        _skeletonIntact = true;
    }

    public void Dispose() => nft.Dispose();

    private async Task RunAsync(string transaction)
    {
        LastTransaction = transaction;
        await nft.RunAsync(transaction).ConfigureAwait(false);
    }
}
