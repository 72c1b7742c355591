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
        // ip_vs is often a module not loaded yet (no /proc/net/ip_vs): asking for the generic netlink family "IPVS"
        // makes the kernel load it, as keepalived's first request does. The module is kernel-wide, so the writer's
        // own namespace answers for any.
        var kernelHasIpvs = choice != "nftables" && (File.Exists(ProcIpvs) || IpvsFamilyAvailable());
        switch (choice)
        {
            case "auto" when kernelHasIpvs:
                logger.LogInformation("Backend: ipvs (this kernel has IPVS: generic netlink family IPVS present, {Proc})", ProcIpvs);
                return Ipvs(networkNamespace);
            case "auto":
                logger.LogInformation("Backend: nftables (this kernel has no IPVS: no {Proc}, no generic netlink family IPVS; NAT services only, table ip lvsevents)", ProcIpvs);
                return Nftables(networkNamespace, logger);
            case "nftables":
                logger.LogInformation("Backend: nftables (chosen with --backend)");
                return Nftables(networkNamespace, logger);
            case "ipvs":
                if (!kernelHasIpvs)
                {
                    throw new Eventing.ConfigurationException($"--backend ipvs: this kernel has no IPVS (no {ProcIpvs}, no generic netlink family IPVS); load it with `modprobe ip_vs` or use --backend nftables");
                }

                logger.LogInformation("Backend: ipvs (chosen with --backend)");
                return Ipvs(networkNamespace);
            default:
                throw new Eventing.ConfigurationException($"--backend {choice}: expected auto, ipvs or nftables");
        }
    }

    private static NftablesBackend Nftables(string? networkNamespace, ILogger logger)
    {
        var backend = new NftablesBackend(new LibNftables(networkNamespace), logger: logger);
        logger.LogInformation("nftables: writes go {Path}; reads through libnftables",
            backend.WritePath == "netlink" ? "straight to nf_tables over netlink (one batch per transaction)" : "through libnftables");
        return backend;
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

    private static bool IpvsFamilyAvailable()
    {
        try
        {
            return LvsEvents.Ipvs.IpvsClient.IsAvailable();
        }
        catch (IOException)
        {
            return false;
        }
    }
}
