using LvsEvents.Configuration;
using LvsEvents.Eventing;
using LvsEvents.Vrrp.Definitions;
using LvsEvents.Vrrp.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Tmds.Linux;

namespace LvsEvents.Vrrp;

/// <summary>
/// What makes lvs-vrrp unable to run, found before the host starts so that the operator reads one line
/// (file:line:column, or the missing capability) instead of a host's stack trace.
/// </summary>
public static class VrrpPreflight
{
    public static void Check(IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(VrrpServiceOptions.Section).Get<VrrpServiceOptions>() ?? new VrrpServiceOptions();
        var (_, errors) = VrrpInstanceCompiler.Compile(builder.InitialConfiguration().Model, options);
        if (errors.Count > 0)
            throw new ConfigurationException(string.Join(Environment.NewLine, errors));
        // A raw socket of protocol 112 needs CAP_NET_RAW; VIPs need CAP_NET_ADMIN (both: root).
        var fd = LibC.socket(LibC.AF_INET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, VrrpSocket.Protocol);
        if (fd < 0)
            throw new ConfigurationException("needs CAP_NET_RAW and CAP_NET_ADMIN to speak VRRP and own VIPs (run it as root)");
        LibC.close(fd);
        if (!HasNetAdmin())
            throw new ConfigurationException("needs CAP_NET_RAW and CAP_NET_ADMIN to speak VRRP and own VIPs (run it as root)");
    }

    /// <summary>CAP_NET_ADMIN (12) in the effective set, from /proc/self/status.</summary>
    private static bool HasNetAdmin()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16) & (1UL << 12)) != 0;
    }
}
