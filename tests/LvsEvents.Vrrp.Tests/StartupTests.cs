using System.Diagnostics;
using LvsEvents.TestInfrastructure;

namespace LvsEvents.Vrrp.Tests;

/// <summary>What stops lvs-vrrp from starting is said in one line, never a stack trace.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StartupTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lvt-vrrp-start-").FullName;

    public StartupTests() => File.SetUnixFileMode(_directory, (UnixFileMode)0b111_111_111);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private const string Valid = """
        vrrp_instance VI_1 {
          interface lo
          virtual_router_id 51
          priority 100
          virtual_ipaddress {
            10.99.0.100/24
          }
        }
        """;

    [Fact(Timeout = 30_000)]
    public async Task Without_root_it_says_which_capabilities_it_needs()
    {
        var (code, output, error) = await RunAsync(Valid, asNobody: true);
        Assert.Equal(1, code);
        Assert.Equal("lvs-vrrp: needs CAP_NET_RAW and CAP_NET_ADMIN to speak VRRP and own VIPs (run it as root)", error.Trim());
        Assert.DoesNotContain("   at ", output + error);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unsupported_setting_is_named_with_its_file_line_and_column()
    {
        var config = Valid.Replace("  priority 100", "  priority 100\n  authentication {\n    auth_type AH\n    auth_pass secret1\n  }", StringComparison.Ordinal);
        var (code, output, error) = await RunAsync(config, asNobody: false);
        Assert.Equal(1, code);
        Assert.Matches(@"^lvs-vrrp: .*/keepalived\.conf:5:3: vrrp_instance VI_1: auth_type AH is not supported", error.Trim());
        Assert.DoesNotContain("   at ", output + error);
        Assert.DoesNotContain("secret1", output + error);
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(string config, bool asNobody)
    {
        var file = Path.Combine(_directory, "keepalived.conf");
        await File.WriteAllTextAsync(file, config);
        File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        var start = new ProcessStartInfo(asNobody ? "setpriv" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory };
        string[] arguments = [OurVrrpNode.DllPath, "--config", file, "--Eventing:NodeId=start-test", $"--Eventing:SpoolDirectory={_directory}/spool", $"--Eventing:RunDirectory={_directory}"];
        foreach (var a in asNobody ? ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", .. arguments] : arguments)
            start.ArgumentList.Add(a);
        start.Environment["HOME"] = _directory;
        start.Environment["ConnectionStrings__rabbitmq"] = await TestServers.RabbitMqAsync();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(25));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
