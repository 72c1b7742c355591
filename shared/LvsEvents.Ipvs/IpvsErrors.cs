namespace LvsEvents.Ipvs;

/// <summary>An IPVS request the kernel refused, with a message that says what to do.</summary>
public class IpvsException(string message, int errno, Exception? inner = null) : IOException(message, inner)
{
    /// <summary>The kernel's errno (0 when the failure did not come from the kernel).</summary>
    public int Errno { get; } = errno;
}

/// <summary>The kernel has no IPVS (no generic netlink family "IPVS"): the ip_vs module is not loaded or not built.</summary>
public sealed class IpvsNotAvailableException(string message) : IpvsException(message, GenericNetlinkSocket.ENOENT);

/// <summary>Turns kernel errnos into messages for operators (what failed, why, and what to do).</summary>
public static class IpvsErrors
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EEXIST = 17, ENODEV = 19, EINVAL = 22, EBUSY = 16,
        ENOMEM = 12, EAFNOSUPPORT = 97, EOPNOTSUPP = 95;

    public const string NotAvailable =
        "IPVS is not available in this kernel (no generic netlink family IPVS): load ip_vs (modprobe ip_vs)";

    /// <summary>"adding virtual service TCP 10.0.0.1:80" and the like.</summary>
    public static string Describe(IpvsOperation operation) => operation.Kind switch
    {
        IpvsOperationKind.AddService => $"adding virtual service {operation.Service}",
        IpvsOperationKind.UpdateService => $"changing virtual service {operation.Service}",
        IpvsOperationKind.DeleteService => $"deleting virtual service {operation.Service}",
        IpvsOperationKind.AddDestination => $"adding real server {operation.Destination} to {operation.Service}",
        IpvsOperationKind.UpdateDestination => $"changing real server {operation.Destination} of {operation.Service}",
        IpvsOperationKind.DeleteDestination => $"deleting real server {operation.Destination} from {operation.Service}",
        _ => operation.Kind.ToString(),
    };

    /// <summary>The exception for a failed service/destination write.</summary>
    public static IpvsException ForOperation(IpvsOperation operation, int errno, string? kernelMessage = null)
    {
        var service = operation.Service;
        var what = Describe(operation);
        string? reason = (operation.Kind, errno) switch
        {
            (IpvsOperationKind.AddService or IpvsOperationKind.UpdateService, ENOENT) => MissingModule(service),
            (IpvsOperationKind.AddService, EEXIST) => $"virtual service {service} already exists",
            (IpvsOperationKind.UpdateService or IpvsOperationKind.DeleteService, ESRCH) => $"virtual service {service} does not exist",
            (IpvsOperationKind.AddDestination or IpvsOperationKind.UpdateDestination or IpvsOperationKind.DeleteDestination, ESRCH)
                => $"{what}: virtual service {service} does not exist",
            (IpvsOperationKind.AddDestination, EEXIST) => $"real server {operation.Destination} already exists in virtual service {service}",
            (IpvsOperationKind.UpdateDestination or IpvsOperationKind.DeleteDestination, ENOENT)
                => $"real server {operation.Destination} does not exist in virtual service {service}",
            _ => null,
        };
        return new IpvsException(reason ?? Generic(what, errno, kernelMessage), errno);
    }

    /// <summary>The exception for any other failed request (<paramref name="what"/>: "reading the timeouts").</summary>
    public static IpvsException ForRequest(string what, int errno, string? kernelMessage = null) =>
        new(Generic(what, errno, kernelMessage), errno);

    public static IpvsException ForDaemon(bool start, IpvsSyncDaemon daemon, int errno, string? kernelMessage = null)
    {
        var state = daemon.State == IpvsSyncState.Master ? "master" : "backup";
        string? reason = (start, errno) switch
        {
            (true, EEXIST) => $"the {state} sync daemon is already running",
            (true, ENODEV) => $"starting the {state} sync daemon: interface '{daemon.Interface}' does not exist",
            (false, ESRCH) => $"the {state} sync daemon is not running",
            _ => null,
        };
        return new IpvsException(reason ?? Generic($"{(start ? "starting" : "stopping")} the {state} sync daemon", errno, kernelMessage), errno);
    }

    /// <summary>The scheduler (or persistence engine) module the kernel could not find.</summary>
    public static string MissingModule(IpvsService service) => string.IsNullOrEmpty(service.PersistenceEngine)
        ? $"scheduler '{service.Scheduler}' not available: load ip_vs_{service.Scheduler} (modprobe ip_vs_{service.Scheduler})"
        : $"scheduler '{service.Scheduler}' or persistence engine '{service.PersistenceEngine}' not available: "
          + $"load ip_vs_{service.Scheduler} and ip_vs_pe_{service.PersistenceEngine}";

    private static string Generic(string what, int errno, string? kernelMessage)
    {
        var hint = errno switch
        {
            EPERM => "; changing IPVS needs CAP_NET_ADMIN (run as root)",
            EINVAL => "; the kernel rejected the attributes (address family, weight, netmask, protocol or flags)",
            _ => "",
        };
        return $"{what}: {GenericNetlinkSocket.Describe(errno)}{(kernelMessage is null ? "" : $" ({kernelMessage})")}{hint}";
    }
}
