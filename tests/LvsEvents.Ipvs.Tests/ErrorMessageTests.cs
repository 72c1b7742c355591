using System.Net;

namespace LvsEvents.Ipvs.Tests;

public class ErrorMessageTests
{
    private static readonly IpvsService Web = IpvsService.Tcp(IPAddress.Parse("10.0.0.1"), 80, "mh");
    private static readonly IpvsDestination Server = new() { Address = IPAddress.Parse("10.0.1.2"), Port = 8080 };

    [Theory]
    [InlineData(IpvsOperationKind.AddService, IpvsErrors.ENOENT, "scheduler 'mh' not available: load ip_vs_mh (modprobe ip_vs_mh)")]
    [InlineData(IpvsOperationKind.UpdateService, IpvsErrors.ENOENT, "scheduler 'mh' not available: load ip_vs_mh (modprobe ip_vs_mh)")]
    [InlineData(IpvsOperationKind.AddService, IpvsErrors.EEXIST, "virtual service TCP 10.0.0.1:80 already exists")]
    [InlineData(IpvsOperationKind.UpdateService, IpvsErrors.ESRCH, "virtual service TCP 10.0.0.1:80 does not exist")]
    [InlineData(IpvsOperationKind.DeleteService, IpvsErrors.ESRCH, "virtual service TCP 10.0.0.1:80 does not exist")]
    [InlineData(IpvsOperationKind.AddDestination, IpvsErrors.EEXIST, "real server 10.0.1.2:8080 already exists in virtual service TCP 10.0.0.1:80")]
    [InlineData(IpvsOperationKind.AddDestination, IpvsErrors.ESRCH, "adding real server 10.0.1.2:8080 to TCP 10.0.0.1:80: virtual service TCP 10.0.0.1:80 does not exist")]
    [InlineData(IpvsOperationKind.UpdateDestination, IpvsErrors.ENOENT, "real server 10.0.1.2:8080 does not exist in virtual service TCP 10.0.0.1:80")]
    [InlineData(IpvsOperationKind.DeleteDestination, IpvsErrors.ENOENT, "real server 10.0.1.2:8080 does not exist in virtual service TCP 10.0.0.1:80")]
    [InlineData(IpvsOperationKind.DeleteService, IpvsErrors.EPERM, "deleting virtual service TCP 10.0.0.1:80: operation not permitted (EPERM); changing IPVS needs CAP_NET_ADMIN (run as root)")]
    [InlineData(IpvsOperationKind.AddDestination, IpvsErrors.EINVAL, "adding real server 10.0.1.2:8080 to TCP 10.0.0.1:80: invalid argument (EINVAL); the kernel rejected the attributes (address family, weight, netmask, protocol or flags)")]
    public void KernelErrnosBecomeOperatorMessages(IpvsOperationKind kind, int errno, string message)
    {
        var operation = new IpvsOperation(kind, Web, Server);
        var e = IpvsErrors.ForOperation(operation, errno);
        Assert.Equal(message, e.Message);
        Assert.Equal(errno, e.Errno);
    }

    [Fact]
    public void PersistenceEngineIsNamedWhenItMayBeTheMissingModule()
    {
        var e = IpvsErrors.ForOperation(IpvsOperation.AddService(Web with { PersistenceEngine = "sip" }), IpvsErrors.ENOENT);
        Assert.Equal("scheduler 'mh' or persistence engine 'sip' not available: load ip_vs_mh and ip_vs_pe_sip", e.Message);
    }

    [Fact]
    public void KernelExtendedAckTextIsKept()
    {
        var e = IpvsErrors.ForRequest("reading the IPVS timeouts", IpvsErrors.EINVAL, "Attribute failed policy validation");
        Assert.StartsWith("reading the IPVS timeouts: invalid argument (EINVAL) (Attribute failed policy validation)", e.Message);
    }

    [Fact]
    public void SyncDaemonErrors()
    {
        var master = new IpvsSyncDaemon { State = IpvsSyncState.Master, Interface = "eth9" };
        Assert.Equal("the master sync daemon is already running", IpvsErrors.ForDaemon(true, master, IpvsErrors.EEXIST).Message);
        Assert.Equal("starting the master sync daemon: interface 'eth9' does not exist", IpvsErrors.ForDaemon(true, master, IpvsErrors.ENODEV).Message);
        Assert.Equal("the backup sync daemon is not running", IpvsErrors.ForDaemon(false, master with { State = IpvsSyncState.Backup }, IpvsErrors.ESRCH).Message);
    }
}
