using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LvsEvents.Ipvs;

/// <summary>
/// The kernel's IPVS table over generic netlink (what ipvsadm does through libipvs). Methods are synchronous and
/// thread-safe: each is one request/answer with the kernel, which takes microseconds. The socket, and so the
/// table, belongs to the network namespace of the thread that called <see cref="Open"/>.
/// </summary>
public sealed class IpvsClient : IDisposable
{
    private readonly GenericNetlinkSocket _socket;
    private readonly ushort _family;

    private IpvsClient(GenericNetlinkSocket socket, ushort family)
    {
        _socket = socket;
        _family = family;
    }

    /// <summary>The generic netlink family id the kernel gave IPVS.</summary>
    public ushort FamilyId => _family;

    /// <summary>
    /// Opens a socket and resolves the IPVS family. Throws <see cref="IpvsNotAvailableException"/> when the kernel has
    /// none; with <paramref name="loadModule"/> it first tries <c>modprobe ip_vs</c> (as ipvsadm and keepalived do).
    /// </summary>
    public static IpvsClient Open(bool loadModule = false)
    {
        var socket = GenericNetlinkSocket.Open();
        try
        {
            var family = socket.ResolveFamily(IpvsMessages.FamilyName);
            if (family is null && loadModule && TryModprobe("ip_vs"))
            {
                family = socket.ResolveFamily(IpvsMessages.FamilyName);
            }
            if (family is null)
            {
                throw new IpvsNotAvailableException(IpvsErrors.NotAvailable);
            }
            return new IpvsClient(socket, family.Value);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="Open"/> in another network namespace: <paramref name="networkNamespace"/> is a name under
    /// /run/netns (as <c>ip netns</c> makes) or a path such as /proc/PID/ns/net. The socket is opened on a short-lived
    /// thread that joined the namespace, and keeps talking to that namespace's IPVS table from any thread.
    /// </summary>
    public static IpvsClient OpenInNamespace(string networkNamespace, bool loadModule = false)
    {
        var path = networkNamespace.Contains('/') ? networkNamespace : Path.Combine("/run/netns", networkNamespace);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        IpvsClient? client = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new IpvsException($"joining network namespace {path}: {GenericNetlinkSocket.Describe(Marshal.GetLastPInvokeError())}", Marshal.GetLastPInvokeError());
                }
                client = Open(loadModule);
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            Name = "ipvs-netns-open",
            IsBackground = true,
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        return client!;
    }

    private const int CloneNewNet = 0x40000000;

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    /// <summary>True if this kernel (in this network namespace) has the IPVS family.</summary>
    public static bool IsAvailable()
    {
        using var socket = GenericNetlinkSocket.Open();
        return socket.ResolveFamily(IpvsMessages.FamilyName) is not null;
    }

    /// <summary>Runs <c>modprobe MODULE</c>; true if it succeeded.</summary>
    public static bool TryModprobe(string module)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("modprobe", ["--", module])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }
            process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            return process.WaitForExit(10_000) && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public IpvsInfo GetInfo() => Single(IpvsCommand.GetInfo, "reading the IPVS version", p => IpvsMessages.ReadInfo(p));

    /// <summary>All virtual services (with statistics).</summary>
    public IReadOnlyList<IpvsService> GetServices()
    {
        var answer = Dump(IpvsCommand.GetService, null, "listing virtual services");
        var services = new List<IpvsService>(answer.Count);
        foreach (var payload in answer)
        {
            services.Add(IpvsMessages.ReadServiceMessage(payload));
        }
        return services;
    }

    /// <summary>One virtual service by its key, or null if the kernel has none.</summary>
    public IpvsService? GetService(IpvsService key)
    {
        var writer = new NetlinkMessageWriter();
        var sequence = _socket.NextSequence();
        IpvsMessages.WriteRequest(writer, _family, IpvsCommand.GetService, sequence, key);
        try
        {
            var answer = _socket.Request(writer.Written, sequence, dump: false);
            return answer.Count == 0 ? null : IpvsMessages.ReadServiceMessage(answer[0]);
        }
        catch (NetlinkErrorException e) when (e.Errno == IpvsErrors.ESRCH)
        {
            return null;
        }
        catch (NetlinkErrorException e)
        {
            throw IpvsErrors.ForRequest($"reading virtual service {key}", e.Errno, e.KernelMessage);
        }
    }

    /// <summary>The destinations of a service (with connection counts and statistics); empty if it does not exist.</summary>
    public IReadOnlyList<IpvsDestination> GetDestinations(IpvsService service)
    {
        var answer = Dump(IpvsCommand.GetDestination, service, $"listing the real servers of {service}");
        var destinations = new List<IpvsDestination>(answer.Count);
        foreach (var payload in answer)
        {
            destinations.Add(IpvsMessages.ReadDestinationMessage(payload, service.Family));
        }
        return destinations;
    }

    /// <summary>The whole table: every service with its destinations.</summary>
    public IReadOnlyList<IpvsTableEntry> GetTable()
    {
        var services = GetServices();
        var table = new List<IpvsTableEntry>(services.Count);
        foreach (var service in services)
        {
            table.Add(new IpvsTableEntry(service, GetDestinations(service)));
        }
        return table;
    }

    public void AddService(IpvsService service) => Execute(IpvsOperation.AddService(service));
    public void UpdateService(IpvsService service) => Execute(IpvsOperation.UpdateService(service));
    public void DeleteService(IpvsService service) => Execute(IpvsOperation.DeleteService(service));
    public void AddDestination(IpvsService service, IpvsDestination destination) => Execute(IpvsOperation.AddDestination(service, destination));
    public void UpdateDestination(IpvsService service, IpvsDestination destination) => Execute(IpvsOperation.UpdateDestination(service, destination));
    public void DeleteDestination(IpvsService service, IpvsDestination destination) => Execute(IpvsOperation.DeleteDestination(service, destination));

    /// <summary>One write; a refusal becomes an <see cref="IpvsException"/> with a message for operators.</summary>
    public void Execute(IpvsOperation operation)
    {
        var writer = new NetlinkMessageWriter();
        var sequence = _socket.NextSequence();
        IpvsMessages.WriteOperation(writer, _family, sequence, operation);
        try
        {
            _socket.Request(writer.Written, sequence, dump: false);
        }
        catch (NetlinkErrorException e)
        {
            throw IpvsErrors.ForOperation(operation, e.Errno, e.KernelMessage);
        }
    }

    /// <summary>
    /// Many writes, packed into few system calls; the kernel applies them in order and goes on after a refusal.
    /// Returns the refusals (empty: all applied), each naming its operation.
    /// </summary>
    public IReadOnlyList<IpvsException> Apply(IReadOnlyList<IpvsOperation> operations)
    {
        var errors = _socket.Batch(operations.Count, (writer, index, sequence) =>
            IpvsMessages.WriteOperation(writer, _family, sequence, operations[index]));
        var failures = new List<IpvsException>();
        for (var i = 0; i < errors.Length; i++)
        {
            if (errors[i] != 0)
            {
                failures.Add(IpvsErrors.ForOperation(operations[i], errors[i]));
            }
        }
        return failures;
    }

    /// <summary><see cref="Apply"/>, throwing an <see cref="AggregateException"/> of the refusals if there were any.</summary>
    public void ApplyOrThrow(IReadOnlyList<IpvsOperation> operations)
    {
        var failures = Apply(operations);
        if (failures.Count > 0)
        {
            throw new AggregateException($"{failures.Count} of {operations.Count} IPVS changes were refused; first: {failures[0].Message}", failures);
        }
    }

    public IpvsTimeouts GetTimeouts() => Single(IpvsCommand.GetConfig, "reading the IPVS timeouts", p => IpvsMessages.ReadTimeouts(p));

    /// <summary>ipvsadm --set tcp tcpfin udp (seconds; 0 leaves a value unchanged).</summary>
    public void SetTimeouts(IpvsTimeouts timeouts)
    {
        var writer = new NetlinkMessageWriter();
        var sequence = _socket.NextSequence();
        IpvsMessages.WriteSetTimeouts(writer, _family, sequence, timeouts);
        Send(writer, sequence, $"setting the IPVS timeouts to {timeouts.Tcp} {timeouts.TcpFin} {timeouts.Udp}");
    }

    /// <summary>Deletes every virtual service (ipvsadm -C).</summary>
    public void Flush() => SendSimple(IpvsCommand.Flush, "flushing the IPVS table");

    /// <summary>Zeroes every counter (ipvsadm -Z).</summary>
    public void ZeroCounters() => SendSimple(IpvsCommand.Zero, "zeroing the IPVS counters");

    public void StartSyncDaemon(IpvsSyncDaemon daemon) => DaemonCommand(IpvsCommand.NewDaemon, daemon);

    public void StopSyncDaemon(IpvsSyncState state) =>
        DaemonCommand(IpvsCommand.DeleteDaemon, new IpvsSyncDaemon { State = state, Interface = "" });

    /// <summary>The running sync daemons (none, master, backup or both).</summary>
    public IReadOnlyList<IpvsSyncDaemon> GetSyncDaemons()
    {
        var answer = Dump(IpvsCommand.GetDaemon, null, "listing the sync daemons");
        return answer.Select(payload => IpvsMessages.ReadDaemonMessage(payload)).ToList();
    }

    private void DaemonCommand(IpvsCommand command, IpvsSyncDaemon daemon)
    {
        var writer = new NetlinkMessageWriter();
        var sequence = _socket.NextSequence();
        IpvsMessages.WriteDaemon(writer, _family, sequence, command, daemon);
        try
        {
            _socket.Request(writer.Written, sequence, dump: false);
        }
        catch (NetlinkErrorException e)
        {
            throw IpvsErrors.ForDaemon(command == IpvsCommand.NewDaemon, daemon, e.Errno, e.KernelMessage);
        }
    }

    private T Single<T>(IpvsCommand command, string what, Func<byte[], T> read)
    {
        var writer = new NetlinkMessageWriter();
        var sequence = _socket.NextSequence();
        IpvsMessages.WriteSimple(writer, _family, sequence, command);
        try
        {
            var answer = _socket.Request(writer.Written, sequence, dump: false);
            if (answer.Count == 0)
            {
                throw new IpvsException($"{what}: the kernel sent no answer", 0);
            }
            return read(answer[0]);
        }
        catch (NetlinkErrorException e)
        {
            throw IpvsErrors.ForRequest(what, e.Errno, e.KernelMessage);
        }
    }

    private void SendSimple(IpvsCommand command, string what)
    {
        var writer = new NetlinkMessageWriter();
        var sequence = _socket.NextSequence();
        IpvsMessages.WriteSimple(writer, _family, sequence, command);
        Send(writer, sequence, what);
    }

    private void Send(NetlinkMessageWriter writer, uint sequence, string what)
    {
        try
        {
            _socket.Request(writer.Written, sequence, dump: false);
        }
        catch (NetlinkErrorException e)
        {
            throw IpvsErrors.ForRequest(what, e.Errno, e.KernelMessage);
        }
    }

    private IReadOnlyList<byte[]> Dump(IpvsCommand command, IpvsService? service, string what)
    {
        var writer = new NetlinkMessageWriter();
        var sequence = _socket.NextSequence();
        IpvsMessages.WriteRequest(writer, _family, command, sequence, service, dump: true);
        try
        {
            return _socket.Request(writer.Written, sequence, dump: true);
        }
        catch (NetlinkErrorException e)
        {
            throw IpvsErrors.ForRequest(what, e.Errno, e.KernelMessage);
        }
    }

    public void Dispose() => _socket.Dispose();
}
