using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// libnftables (Debian's libnftables1, what the nft command itself uses) driven in-process: the same parser and the
/// same atomic netlink batch as <c>nft -f</c>, without starting a process per change. Every call runs on one
/// dedicated thread that owns the context; when <c>netns</c> is given, that thread first enters
/// <c>/run/netns/NAME</c>, so the context's netlink socket (and every rule) lives in that namespace (tests, benchmark).
/// </summary>
public sealed class LibNftables : IDisposable
{
    private const string Library = "libnftables.so.1";
    private const uint OutputJson = 1 << 4;
    private const int CloneNewNet = 0x40000000;

    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private IntPtr _context;

    public LibNftables(string? networkNamespace = null)
    {
        NetworkNamespace = networkNamespace;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() => Loop(networkNamespace, ready)) { IsBackground = true, Name = "libnftables" };
        _thread.Start();
        try
        {
            ready.Task.GetAwaiter().GetResult();
        }
        catch
        {
            _work.CompleteAdding();
            throw;
        }
    }

    /// <summary>The network namespace (/run/netns name) the context works in; null: the process's own.</summary>
    public string? NetworkNamespace { get; }

    /// <summary>True when libnftables can be loaded on this machine.</summary>
    public static bool IsAvailable() => NativeLibrary.TryLoad(Library, out var handle) && Free(handle);

    /// <summary>Runs nft commands (the text of an nft -f file) as one transaction. Throws with nft's own error text.</summary>
    public Task<string> RunAsync(string commands, bool json = false)
    {
        var result = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add(() =>
            {
                try
                {
                    result.SetResult(RunOnThread(commands, json));
                }
                catch (Exception e)
                {
                    result.SetException(e);
                }
            });
        }
        catch (InvalidOperationException)
        {
            result.SetException(new ObjectDisposedException(nameof(LibNftables)));
        }

        return result.Task;
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join(TimeSpan.FromSeconds(10));
        }

        _work.Dispose();
    }

    private void Loop(string? networkNamespace, TaskCompletionSource ready)
    {
        try
        {
            if (networkNamespace is not null)
            {
                using var handle = File.OpenHandle($"/run/netns/{networkNamespace}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new KernelTableException($"cannot enter network namespace {networkNamespace}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                }
            }

            _context = NftCtxNew(0);
            if (_context == IntPtr.Zero)
            {
                throw new KernelTableException("libnftables: nft_ctx_new failed");
            }

            NftCtxBufferOutput(_context);
            NftCtxBufferError(_context);
        }
        catch (DllNotFoundException e)
        {
            ready.SetException(new KernelTableException($"the nftables backend needs {Library} (Debian package libnftables1): {e.Message}", e));
            return;
        }
        catch (Exception e)
        {
            ready.SetException(e);
            return;
        }

        ready.SetResult();
        try
        {
            foreach (var item in _work.GetConsumingEnumerable())
            {
                item();
            }
        }
        finally
        {
            NftCtxFree(_context);
            _context = IntPtr.Zero;
        }
    }

    private string RunOnThread(string commands, bool json)
    {
        var flags = NftCtxOutputGetFlags(_context);
        NftCtxOutputSetFlags(_context, json ? flags | OutputJson : flags & ~OutputJson);
        var rc = NftRunCmdFromBuffer(_context, commands);
        var output = Marshal.PtrToStringUTF8(NftCtxGetOutputBuffer(_context)) ?? "";
        var error = Marshal.PtrToStringUTF8(NftCtxGetErrorBuffer(_context)) ?? "";
        if (rc != 0)
        {
            throw new KernelTableException($"nftables refused the transaction (nothing was changed): {error.Trim()}");
        }

        return output;
    }

    private static bool Free(IntPtr handle)
    {
        NativeLibrary.Free(handle);
        return true;
    }

    [DllImport(Library, EntryPoint = "nft_ctx_new")]
    private static extern IntPtr NftCtxNew(uint flags);

    [DllImport(Library, EntryPoint = "nft_ctx_free")]
    private static extern void NftCtxFree(IntPtr context);

    [DllImport(Library, EntryPoint = "nft_ctx_buffer_output")]
    private static extern int NftCtxBufferOutput(IntPtr context);

    [DllImport(Library, EntryPoint = "nft_ctx_buffer_error")]
    private static extern int NftCtxBufferError(IntPtr context);

    [DllImport(Library, EntryPoint = "nft_ctx_get_output_buffer")]
    private static extern IntPtr NftCtxGetOutputBuffer(IntPtr context);

    [DllImport(Library, EntryPoint = "nft_ctx_get_error_buffer")]
    private static extern IntPtr NftCtxGetErrorBuffer(IntPtr context);

    [DllImport(Library, EntryPoint = "nft_ctx_output_get_flags")]
    private static extern uint NftCtxOutputGetFlags(IntPtr context);

    [DllImport(Library, EntryPoint = "nft_ctx_output_set_flags")]
    private static extern void NftCtxOutputSetFlags(IntPtr context, uint flags);

    [DllImport(Library, EntryPoint = "nft_run_cmd_from_buffer")]
    private static extern int NftRunCmdFromBuffer(IntPtr context, [MarshalAs(UnmanagedType.LPUTF8Str)] string buffer);

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);
}
