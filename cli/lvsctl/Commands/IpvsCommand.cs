using System.Diagnostics;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Table;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.Lvsctl.Commands;

/// <summary>
/// <c>lvsctl ipvs list [--stats|--rate]</c> prints the live load-balancing table in <c>ipvsadm -Ln</c> layout;
/// <c>lvsctl ipvs save</c> prints it in <c>ipvsadm -S -n</c> format. Both read it through the writer's backend
/// (IPVS where the kernel has it, else the nftables table <c>ip lvsevents</c>). Needs root (CAP_NET_ADMIN).
/// </summary>
public sealed class IpvsCommand : ICommandGroup
{
    public string Name => "ipvs";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl ipvs list [--stats|--rate] [--backend auto|ipvs|nftables] [--netns NAME]",
        "lvsctl ipvs save [--backend auto|ipvs|nftables] [--netns NAME]",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        if (!TryParse(arguments, out var save, out var mode, out var backendName, out var netns))
        {
            foreach (var line in Usage)
            {
                error.WriteLine($"usage: {line}");
            }

            return 2;
        }

        try
        {
            using var backend = BackendSelector.Create(backendName, NullLogger.Instance, netns);
            var table = backend.ReadAsync(CancellationToken.None).GetAwaiter().GetResult();
            foreach (var problem in table.Problems)
            {
                error.WriteLine($"lvsctl ipvs: {problem}");
            }

            if (save)
            {
                foreach (var line in table.SaveLines())
                {
                    output.WriteLine(line);
                }

                return 0;
            }

            KernelTable? rates = null;
            if (mode == IpvsadmListing.Mode.Rate)
            {
                // ipvsadm shows the kernel's own rate estimator; nftables has none, so rates come from two reads 1 s apart.
                var clock = Stopwatch.StartNew();
                Thread.Sleep(1000);
                var later = backend.ReadAsync(CancellationToken.None).GetAwaiter().GetResult();
                rates = IpvsadmListing.Rates(table, later, clock.Elapsed);
                table = later;
            }

            var header = backend is IpvsBackend ipvs
                ? ipvs.VersionLine()
                : $"LvsEvents nftables table {NftablesRuleset.Family} {NftablesRuleset.TableName} (no IPVS in this kernel; ipvsadm -Ln layout, - = not counted)";
            output.Write(IpvsadmListing.Format(table, mode, header, rates));
            return 0;
        }
        catch (Exception e) when (e is KernelTableException or Eventing.ConfigurationException or LvsEvents.Ipvs.IpvsException)
        {
            error.WriteLine($"lvsctl ipvs: {e.Message}");
            return 1;
        }
    }

    private static bool TryParse(IReadOnlyList<string> arguments, out bool save, out IpvsadmListing.Mode mode, out string backend, out string? netns)
    {
        save = false;
        mode = IpvsadmListing.Mode.Plain;
        backend = "auto";
        netns = null;
        if (arguments.Count == 0 || arguments[0] is not ("list" or "save"))
        {
            return false;
        }

        save = arguments[0] == "save";
        for (var i = 1; i < arguments.Count; i++)
        {
            switch (arguments[i])
            {
                case "--stats" when !save && mode == IpvsadmListing.Mode.Plain:
                    mode = IpvsadmListing.Mode.Stats;
                    break;
                case "--rate" when !save && mode == IpvsadmListing.Mode.Plain:
                    mode = IpvsadmListing.Mode.Rate;
                    break;
                case "--backend" when i + 1 < arguments.Count && arguments[i + 1] is "auto" or "ipvs" or "nftables":
                    backend = arguments[++i];
                    break;
                case "--netns" when i + 1 < arguments.Count && arguments[i + 1].Length > 0:
                    netns = arguments[++i];
                    break;
                default:
                    return false;
            }
        }

        return true;
    }
}
