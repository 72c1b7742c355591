using Microsoft.Extensions.Logging;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// <c>--backend auto|ipvs|nftables</c>. auto: IPVS when the kernel has it (<c>/proc/net/ip_vs</c>), else nftables,
/// and the log says which and why.
/// </summary>
public static class BackendSelector
{
    public const string ProcIpvs = "/proc/net/ip_vs";

    public static IKernelTableBackend Create(string choice, ILogger logger, string? networkNamespace = null)
    {
        // The IPVS module is kernel-wide: the writer's own /proc/net/ip_vs answers for any namespace.
        var kernelHasIpvs = File.Exists(ProcIpvs);
        switch (choice)
        {
            case "auto" when kernelHasIpvs:
                logger.LogInformation("Backend: ipvs ({Proc} exists: this kernel has IPVS)", ProcIpvs);
                return Ipvs(networkNamespace);
            case "auto":
                logger.LogInformation("Backend: nftables ({Proc} absent: this kernel has no IPVS; NAT services only, table ip lvsevents)", ProcIpvs);
                return new NftablesBackend(new LibNftables(networkNamespace));
            case "nftables":
                logger.LogInformation("Backend: nftables (chosen with --backend)");
                return new NftablesBackend(new LibNftables(networkNamespace));
            case "ipvs":
                if (!kernelHasIpvs)
                {
                    throw new Eventing.ConfigurationException($"--backend ipvs: this kernel has no IPVS ({ProcIpvs} absent); load it with `modprobe ip_vs` or use --backend nftables");
                }

                logger.LogInformation("Backend: ipvs (chosen with --backend)");
                return Ipvs(networkNamespace);
            default:
                throw new Eventing.ConfigurationException($"--backend {choice}: expected auto, ipvs or nftables");
        }
    }

    private static IpvsBackend Ipvs(string? networkNamespace)
    {
        try
        {
            return new IpvsBackend(networkNamespace is null ? LvsEvents.Ipvs.IpvsClient.Open() : LvsEvents.Ipvs.IpvsClient.OpenInNamespace(networkNamespace));
        }
        catch (LvsEvents.Ipvs.IpvsException e)
        {
            throw new Eventing.ConfigurationException($"--backend ipvs: {e.Message}");
        }
    }
}
