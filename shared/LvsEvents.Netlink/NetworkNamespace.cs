using System.Diagnostics;
using Tmds.Linux;

namespace LvsEvents.Netlink;

/// <summary>
/// Opens sockets inside another network namespace (keepalived's <c>net_namespace</c>). Linux gives each thread
/// its own namespace and a socket keeps the namespace it was created in, so the opening runs on a dedicated
/// thread that enters the namespace and then ends; the sockets work from any thread afterwards, while the
/// rest of the process (the bus, the store) stays in its own namespace.
/// </summary>
public static class NetworkNamespace
{
    /// <summary>Runs <paramref name="open"/> in <paramref name="name"/> (from <c>/run/netns</c>), or here when null.</summary>
    public static T Run<T>(string? name, Func<T> open)
    {
        if (string.IsNullOrEmpty(name))
        {
            return open();
        }

        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var path = name.Contains('/') ? name : $"/run/netns/{name}";
                if (!File.Exists(path))
                {
                    throw new IOException($"network namespace '{name}' does not exist ({path} is missing)");
                }
                using var handle = File.OpenHandle(path);
                if (LibC.setns((int)handle.DangerousGetHandle(), LibC.CLONE_NEWNET) != 0)
                {
                    throw new IOException($"cannot enter network namespace '{name}': {NetlinkSocket.Describe(LibC.errno)}");
                }
                result = open();
            }
            catch (Exception e)
            {
                failure = e;
            }
            // The thread ends here and takes the foreign namespace with it: nothing else ever runs on it.
        }) { IsBackground = true, Name = $"netns {name}" };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        return result;
    }

    /// <summary>
    /// <c>/bin/sh -c COMMAND</c> (keepalived's scripts), run inside <paramref name="name"/> through
    /// <c>ip netns exec</c> (which also gives it the namespace's own /sys), or here when null. Output is redirected.
    /// </summary>
    public static ProcessStartInfo Shell(string command, string? name)
    {
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        if (string.IsNullOrEmpty(name))
        {
            start.FileName = "/bin/sh";
        }
        else
        {
            start.FileName = "ip";
            foreach (var a in (string[])["netns", "exec", name, "/bin/sh"])
            {
                start.ArgumentList.Add(a);
            }
        }
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        return start;
    }
}
