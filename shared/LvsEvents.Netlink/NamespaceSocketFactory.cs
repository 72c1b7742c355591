using System.Collections.Concurrent;
using System.Net.Sockets;
using Tmds.Linux;

namespace LvsEvents.Netlink;

/// <summary>
/// Creates sockets inside one network namespace for code that opens many (a health checker's probes): one
/// long-lived thread enters the namespace once and creates each socket asked for; the socket then works from
/// any thread (it keeps its namespace). Cheaper than <see cref="NetworkNamespace.Run{T}"/>'s thread per call.
/// </summary>
public sealed class NamespaceSocketFactory : IDisposable
{
    private readonly BlockingCollection<(AddressFamily Family, SocketType Type, ProtocolType Protocol, TaskCompletionSource<Socket> Result)> _requests = new();
    private readonly Thread _thread;

    public NamespaceSocketFactory(string name)
    {
        Name = name;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() =>
        {
            try
            {
                var path = name.Contains('/') ? name : $"/run/netns/{name}";
                using var handle = File.OpenHandle(path);
                if (LibC.setns((int)handle.DangerousGetHandle(), LibC.CLONE_NEWNET) != 0)
                    throw new IOException($"cannot enter network namespace '{name}': {NetlinkSocket.Describe(LibC.errno)}");
                entered.SetResult();
            }
            catch (Exception e)
            {
                entered.SetException(e);
                return;
            }
            foreach (var (family, type, protocol, result) in _requests.GetConsumingEnumerable())
            {
                try
                {
                    result.SetResult(new Socket(family, type, protocol));
                }
                catch (Exception e)
                {
                    result.SetException(e);
                }
            }
        }) { IsBackground = true, Name = $"sockets in netns {name}" };
        _thread.Start();
        entered.Task.GetAwaiter().GetResult();
    }

    public string Name { get; }

    public Socket Create(AddressFamily family, SocketType type, ProtocolType protocol)
    {
        var result = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.Add((family, type, protocol, result));
        return result.Task.GetAwaiter().GetResult();
    }

    public void Dispose() => _requests.CompleteAdding();
}
