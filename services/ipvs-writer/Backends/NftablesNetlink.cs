using System.Runtime.InteropServices;
using LvsEvents.Netlink;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// Writes nftables transactions straight to nf_tables over NETLINK_NETFILTER (no nft parser in the path): one batch per
/// transaction, sent in one system call; the kernel commits it or rolls all of it back. A refusal becomes a
/// <see cref="KernelTableException"/> that names the object and the errno. The socket is opened in the writer's
/// network namespace and stays there.
/// </summary>
public sealed class NftablesNetlink : IDisposable
{
    private readonly NetfilterNetlinkSocket _socket;
    private readonly NetlinkBatchWriter _writer = new(64 * 1024);
    private readonly NetlinkBatchWriter _sync = new(64);
    private uint _sequence = (uint)Environment.TickCount;

    private NftablesNetlink(NetfilterNetlinkSocket socket) => _socket = socket;

    /// <summary>Opens the socket in <paramref name="networkNamespace"/> (/run/netns), or in this process's namespace when null.</summary>
    public static NftablesNetlink Open(string? networkNamespace = null) => new(NetfilterNetlinkSocket.Open(networkNamespace));

    /// <summary>Bytes of the last batch (for tests that compare with what nft sends).</summary>
    internal ReadOnlySpan<byte> LastBatch => _writer.Written;

    /// <summary><see cref="NftablesRuleset.Replace"/> as one transaction.</summary>
    public void Replace(Table.KernelTable table) => Commit(t => t.Replace(table));

    /// <summary>The per-service patch as one transaction.</summary>
    public void Patch(Table.KernelTable before, IReadOnlyList<Table.TableOperation> operations, Table.KernelTable after) =>
        Commit(t => t.Patch(before, operations, after));

    private void Commit(Action<NftablesNetlinkTransaction> build)
    {
        lock (_writer)
        {
            CommitLocked(build);
        }
    }

    private void CommitLocked(Action<NftablesNetlinkTransaction> build)
    {
        _writer.Clear();
        var firstSequence = _sequence;
        var transaction = new NftablesNetlinkTransaction(_writer, firstSequence);
        build(transaction);
        var syncSequence = transaction.NextSequence;
        _sequence = syncSequence + 1;

        // NFT_MSG_GETGEN right after the batch: its answer comes after every error the batch produced.
        _sync.Clear();
        _sync.BeginMessage(NftablesNetlinkProtocol.MessageType(NftablesNetlinkProtocol.GetGeneration), NetfilterNetlinkSocket.NlmFRequest, syncSequence, 0, 0, 0);
        _sync.EndMessage();

        IReadOnlyList<NetlinkBatchError> errors;
        try
        {
            errors = _socket.SendBatch(_writer.Written, firstSequence, _sync.Written, syncSequence);
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            throw new KernelTableException($"nftables: {e.Message}", e);
        }

        if (errors.Count == 0)
        {
            return;
        }

        var first = errors[0];
        var more = errors.Count > 1 ? $" ({errors.Count - 1} more refusal{(errors.Count > 2 ? "s" : "")} followed from it)" : "";
        throw new KernelTableException(
            $"nftables refused the transaction (nothing was changed): {transaction.Describe(first.Sequence)}: {Describe(first.Errno)}" +
            $"{(first.KernelMessage is null ? "" : $" ({first.KernelMessage})")}{more}");
    }

    /// <summary>"No such file or directory (ENOENT, errno 2)".</summary>
    public static string Describe(int errno)
    {
        var name = errno switch
        {
            1 => "EPERM", 2 => "ENOENT", 7 => "E2BIG", 12 => "ENOMEM", 16 => "EBUSY", 17 => "EEXIST", 22 => "EINVAL",
            28 => "ENOSPC", 34 => "ERANGE", 40 => "ELOOP", 75 => "EOVERFLOW", 90 => "EMSGSIZE", 95 => "EOPNOTSUPP", 105 => "ENOBUFS",
            _ => null,
        };
        var text = Marshal.GetPInvokeErrorMessage(errno);
        return name is null ? $"{text} (errno {errno})" : $"{text} ({name}, errno {errno})";
    }

    public void Dispose() => _socket.Dispose();
}
