using Microsoft.Extensions.Logging;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// <c>--backend auto|ipvs|nftables</c>. auto: IPVS when the kernel has it (<c>/proc/net/ip_vs</c>), else nftables,
/// and the log says which and why.
/// </summary>
public static class BackendSelector
{
    public const string ProcIpvs = "/proc/net/ip_vs";

    /// <summary>Builds the IPVS backend; null until the netlink client (shared/LvsEvents.Ipvs) is plugged in.</summary>
    public static Func<IKernelTableBackend>? IpvsFactory { get; set; }

    public static IKernelTableBackend Create(string choice, ILogger logger, string? networkNamespace = null)
    {
        var kernelHasIpvs = File.Exists(ProcIpvs);
        switch (choice)
        {
            case "auto":
                if (kernelHasIpvs && IpvsFactory is { } factory)
                {
                    logger.LogInformation("Backend: ipvs ({Proc} exists: this kernel has IPVS)", ProcIpvs);
                    return factory();
                }

                logger.LogInformation(
                    kernelHasIpvs
                        ? "Backend: nftables (this kernel has IPVS, but this build has no IPVS netlink backend yet)"
                        : "Backend: nftables ({Proc} absent: this kernel has no IPVS; NAT services only, table ip lvsevents)",
                    ProcIpvs);
                return new NftablesBackend(new LibNftables(networkNamespace));
            case "nftables":
                logger.LogInformation("Backend: nftables (chosen with --backend)");
                return new NftablesBackend(new LibNftables(networkNamespace));
            case "ipvs":
                if (!kernelHasIpvs)
                {
                    throw new Eventing.ConfigurationException($"--backend ipvs: this kernel has no IPVS ({ProcIpvs} absent); load it with `modprobe ip_vs` or use --backend nftables");
                }

                return IpvsFactory?.Invoke()
                    ?? throw new Eventing.ConfigurationException("--backend ipvs: this build has no IPVS netlink backend yet; use --backend nftables");
            default:
                throw new Eventing.ConfigurationException($"--backend {choice}: expected auto, ipvs or nftables");
        }
    }
}
