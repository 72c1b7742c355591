using LvsEvents.IpvsWriter.Table;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// Where the table lives: IPVS over generic netlink, or nftables. The reconciler is the only caller and never calls
/// two methods at once. An IPVS adapter maps each <see cref="TableOperation"/> to one netlink request; nftables applies
/// the whole list as one atomic transaction.
/// </summary>
public interface IKernelTableBackend : IDisposable
{
    /// <summary><c>ipvs</c> or <c>nftables</c>, as events and logs name it.</summary>
    string Name { get; }

    /// <summary>True when <see cref="ReadAsync"/> fills active/inactive connection counts (IPVS); a drain then ends early when they reach 0.</summary>
    bool ReportsConnections { get; }

    /// <summary>Why this backend cannot program <paramref name="service"/> (e.g. DR under nftables), or null.</summary>
    string? Unsupported(KernelService service);

    /// <summary>The table as the kernel holds it now, with whatever statistics the backend can read.</summary>
    Task<KernelTable> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Applies <paramref name="operations"/>, computed against <paramref name="before"/>; afterwards the kernel holds
    /// <paramref name="after"/>. Throws <see cref="KernelTableException"/> with a clear message on failure; nftables
    /// then has changed nothing.
    /// </summary>
    Task ApplyAsync(KernelTable before, IReadOnlyList<TableOperation> operations, KernelTable after, CancellationToken cancellationToken);

    /// <summary>Replaces the whole table with <paramref name="table"/> (atomically where the backend can).</summary>
    Task ReplaceAsync(KernelTable table, CancellationToken cancellationToken);
}

/// <summary>The kernel refused a change; <see cref="Exception.Message"/> says what and why, for an operator.</summary>
public sealed class KernelTableException(string message, Exception? inner = null) : Exception(message, inner);
