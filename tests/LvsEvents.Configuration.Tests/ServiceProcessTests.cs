using LvsEvents.Contracts;
using LvsEvents.Lvsctl;

namespace LvsEvents.Configuration.Tests;

/// <summary>The real lvs-vrrp process, reloaded by the real <c>lvsctl reload</c>, its events reaching the store.</summary>
[Collection(MonitorCollection.Name)]
public sealed class ServiceProcessTests(MonitorFixture monitor) : IDisposable
{
    private const string Weight = "192.168.1.100:80/TCP -> 192.168.1.20:80";
    private readonly string _node = "cfg-e2e-" + Guid.NewGuid().ToString("N")[..10];
    private readonly KeepalivedFiles _files = new();

    private string RunDirectory => Path.Combine(_files.Folder, "run");

    public void Dispose() => _files.Dispose();

    private Task<ServiceProcess> StartVrrpAsync() => ServiceProcess.StartAsync(
        ServiceProcess.DllPath("vrrp", "lvs-vrrp"),
        [
            "--config", _files.Path,
            $"--Eventing:NodeId={_node}",
            $"--Eventing:SpoolDirectory={Path.Combine(_files.Folder, "spool")}",
            $"--Eventing:RunDirectory={RunDirectory}",
            "--Eventing:MaxRetryDelay=00:00:01",
        ]);

    [Fact]
    public async Task Lvsctl_reload_makes_the_running_lvs_vrrp_record_the_edit_as_config_applied()
    {
        await using var vrrp = await StartVrrpAsync();
        await vrrp.WaitForFileAsync(Path.Combine(RunDirectory, "vrrp.pid"), TimeSpan.FromSeconds(30));
        var started = await monitor.WaitForAsync(_node, r => r.Event is ConfigurationApplied, "config.applied at start");
        Assert.Equal("vrrp", started.Event.Service);

        _files.Write(KeepalivedFiles.ReplaceOnce(_files.Text, "real_server 192.168.1.20 80 {\n        weight 3", "real_server 192.168.1.20 80 {\n        weight 7"));
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = Program.Run(["reload", "--run-dir", RunDirectory], output, error);

        Assert.True(exitCode == 0, $"lvsctl reload exited {exitCode}: {output}{error}");
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"vrrp: signalled (pid {vrrp.Id})", lines[0]);
        Assert.StartsWith("health: not running", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("ipvs-writer: not running", lines[2], StringComparison.Ordinal);

        var reloaded = await monitor.WaitForAsync(
            _node,
            r => r.Event is ConfigurationApplied { Changes.Count: 1 } a && a.Changes[0].Key == Weight,
            "config.applied of the reload");
        var applied = (ConfigurationApplied)reloaded.Event;
        Assert.Equal(("real_server", ChangeKind.Changed), (applied.Changes[0].ObjectType, applied.Changes[0].Change));
        Assert.Equal([new FieldChange("weight", "3", "7")], applied.Changes[0].Fields);
        Assert.NotEqual(((ConfigurationApplied)started.Event).Hash, applied.Hash);
        Assert.Contains("SIGHUP", vrrp.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lvs_vrrp_started_with_a_broken_file_exits_1_printing_the_located_errors_without_a_stack_trace()
    {
        _files.Write(KeepalivedFiles.Broken(_files.Text));
        await using var vrrp = await StartVrrpAsync();

        var exitCode = await vrrp.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        var lines = vrrp.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 3, vrrp.Error);
        Assert.Equal($"lvs-vrrp: keepalived configuration {_files.Path} has {lines.Length - 1} errors; not starting:", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.True(KeepalivedFiles.IsLocatedError(l, _files.Path), l));
        Assert.Contains(lines, l => l.Contains("virtual_router_id: 256", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("real_server outside any virtual_server", StringComparison.Ordinal));
        var everything = vrrp.Output + vrrp.Error;
        Assert.DoesNotContain("   at ", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", everything, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(RunDirectory, "vrrp.pid")));
    }
}
