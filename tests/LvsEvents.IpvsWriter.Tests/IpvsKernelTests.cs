using System.Diagnostics;
using Xunit.Abstractions;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>
/// The writer's IPVS path on a real IPVS kernel: Debian's kernel under qemu (tests/ipvs-vm, docs/ipvs-vm.md) runs
/// <c>lvs-ipvs-writer-bench ipvs-check</c>, which drives the reconciler through the IPVS backend with ipvsadm as the
/// witness (auto-detection, resync, drift by hand reported and undone, inhibit, before/after events, drain ended by
/// connection counts, lvsctl ipvs list/--stats/save byte-identical to ipvsadm).
/// </summary>
public sealed class IpvsKernelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_ipvs_backend_passes_every_check_in_an_ipvs_kernel()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "LvsEvents.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        }

        var check = Path.Combine(root, "bench/LvsEvents.IpvsWriter.Bench/bin/Release/net10.0/lvs-ipvs-writer-bench.dll");
        Assert.True(File.Exists(check), $"{check} is missing: dotnet build bench/LvsEvents.IpvsWriter.Bench -c Release");
        var info = new ProcessStartInfo(Path.Combine(root, "tests/ipvs-vm/ipvs-vm.sh")) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["run", "--timeout", "200", "--", "dotnet", check, "ipvs-check"])
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(true);
            Assert.Fail("the IPVS guest did not finish in 240 s");
        }

        var text = await stdout + await stderr;
        output.WriteLine(text);
        Assert.True(process.ExitCode == 0, text);
        Assert.Contains("ALL PASSED", text);
        Assert.Equal(11, text.Split('\n').Count(l => l.StartsWith("PASS ", StringComparison.Ordinal)));
    }
}
