using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace LvsEvents.Ipvs.Tests;

/// <summary>
/// Runs tests/LvsEvents.Ipvs.VmTests inside Debian's kernel under qemu (tests/ipvs-vm/ipvs-vm.sh), where IPVS
/// exists, and asserts that every check passed there. Needs qemu-system-x86, linux-image-amd64, busybox-static and
/// ipvsadm (installed by ./test.sh).
/// </summary>
public partial class IpvsVmTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryOperationRoundTripsThroughARealIpvsKernel()
    {
        var root = RepositoryRoot();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<Configuration>/net10.0/
        var dll = Path.Combine(root, "tests", "LvsEvents.Ipvs.VmTests", "bin", configuration, "net10.0", "LvsEvents.Ipvs.VmTests.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built (dotnet build tests/LvsEvents.Ipvs.VmTests -c {configuration})");

        var (exitCode, text) = RunHarness(root, dll);
        output.WriteLine(text);
        var summary = Summary().Match(text);
        Assert.True(summary.Success, $"the guest printed no summary (exit {exitCode}):\n{text}");
        Assert.Equal(0, int.Parse(summary.Groups["failed"].Value));
        Assert.True(int.Parse(summary.Groups["passed"].Value) >= 24, summary.Value);
        Assert.Equal(0, exitCode);
    }

    private static (int ExitCode, string Output) RunHarness(string root, string dll)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(root, "tests", "ipvs-vm", "ipvs-vm.sh"), "run", "--timeout", "150", "--", "dotnet", dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        // The harness bounds the guest at 150 s and kills qemu after that; this is a backstop.
        if (!process.WaitForExit(TimeSpan.FromSeconds(200)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, stdout + stderr.Result + "\n(harness killed after 200 s)");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LvsEvents.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no LvsEvents.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"vm-tests: (?<passed>\d+) passed, (?<failed>\d+) failed")]
    private static partial Regex Summary();
}
