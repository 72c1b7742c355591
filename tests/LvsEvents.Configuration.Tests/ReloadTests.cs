using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.EventStore;
using LvsEvents.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LvsEvents.Configuration.Tests;

/// <summary>A real host with a real keepalived.conf on disk, its events travelling spool -> RabbitMQ -> monitor -> Marten.</summary>
[Collection(MonitorCollection.Name)]
public sealed class ReloadTests(MonitorFixture monitor) : IAsyncLifetime
{
    private const string Weight = "192.168.1.100:80/TCP -> 192.168.1.20:80";
    private readonly string _node = "cfg-" + Guid.NewGuid().ToString("N")[..10];
    private readonly KeepalivedFiles _files = new();
    private readonly CapturedLogs _logs = new();
    private IHost? _service;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.StopAsync();
            _service.Dispose();
        }

        _files.Dispose();
    }

    private async Task<IHost> StartServiceAsync() => _service = await ServiceHosts.StartAsync(_node, _files, _logs);

    private static ConfigurationReloader Reloader(IHost host) => host.Services.GetRequiredService<ConfigurationReloader>();

    private static RunningConfiguration Running(IHost host) => host.Services.GetRequiredService<RunningConfiguration>();

    [Fact]
    public async Task Starting_with_a_valid_file_records_config_applied_with_every_object_added()
    {
        var host = await StartServiceAsync();
        var hash = Running(host).Loaded.Hash;

        var recorded = await monitor.WaitForAsync(_node, r => r.Event is ConfigurationApplied, "config.applied at start");

        var applied = (ConfigurationApplied)recorded.Event;
        Assert.Equal(_files.Path, applied.File);
        Assert.Equal(hash, applied.Hash);
        Assert.Matches("^[0-9a-f]{64}$", applied.Hash);
        Assert.Equal("vrrp", applied.Service);
        Assert.All(applied.Changes, c => Assert.Equal(ChangeKind.Added, c.Change));
        Assert.Equal(
            [
                "global_defs global_defs",
                "real_server 192.168.1.100:80/TCP -> 192.168.1.20:80",
                "real_server 192.168.1.100:80/TCP -> 192.168.1.21:80",
                "real_server 192.168.1.100:80/TCP -> 192.168.1.22:80",
                "virtual_server 192.168.1.100:80/TCP",
                "vrrp_instance VI_1",
                "vrrp_script chk_nginx",
            ],
            applied.Changes.Select(c => $"{c.ObjectType} {c.Key}").Order(StringComparer.Ordinal));
        Assert.Contains(applied.Changes.Single(c => c.ObjectType == "global_defs").Fields, f => f is { Field: "router_id", Old: null, New: "LVS_MASTER" });
        Assert.Contains(applied.Changes.Single(c => c.Key == Weight).Fields, f => f is { Field: "weight", Old: null, New: "3" });
        Assert.Contains(applied.Changes.Single(c => c.Key == "VI_1").Fields, f => f is { Field: "authentication.password", New: "***" });
        AssertNoSecret(JsonSerializer.Serialize(recorded.Event, EventJson.Options));
    }

    [Fact]
    public async Task Reloading_an_edited_file_records_exactly_its_changes_with_auth_pass_as_stars_and_tells_observers()
    {
        var host = await StartServiceAsync();
        var notifications = new List<ConfigurationChangedNotification>();
        using var subscription = Running(host).Subscribe("test", (n, _) =>
        {
            notifications.Add(n);
            return ValueTask.CompletedTask;
        });
        var before = Running(host).Loaded;

        _files.Write(KeepalivedFiles.ThreeEdits(_files.Text));
        var result = await Reloader(host).ReloadAsync(CancellationToken.None);

        Assert.Equal(ReloadOutcome.Applied, result.Outcome);
        var recorded = await monitor.WaitForAsync(_node, r => r.Event.EventId == result.Event.EventId, "config.applied of the reload");
        var applied = Assert.IsType<ConfigurationApplied>(recorded.Event);
        Assert.NotEqual(before.Hash, applied.Hash);
        Assert.Equal(Running(host).Loaded.Hash, applied.Hash);
        Assert.Equal(
            [
                "Added real_server 192.168.1.101:443/TCP -> 192.168.1.30:443",
                "Added virtual_server 192.168.1.101:443/TCP",
                $"Changed real_server {Weight}",
                "Changed vrrp_instance VI_1",
            ],
            applied.Changes.Select(c => $"{c.Change} {c.ObjectType} {c.Key}").Order(StringComparer.Ordinal));
        Assert.Equal([new FieldChange("weight", "3", "5")], applied.Changes.Single(c => c.Key == Weight).Fields);
        Assert.Equal([new FieldChange("authentication.password", "***", "***")], applied.Changes.Single(c => c.Key == "VI_1").Fields);

        var notification = Assert.Single(notifications);
        Assert.Same(before, notification.Previous);
        Assert.Same(Running(host).Loaded, notification.Current);
        Assert.Equal(3, notification.Previous.Model.VirtualServers[0].RealServers[0].Weight);
        Assert.Equal(5, notification.Current.Model.VirtualServers[0].RealServers[0].Weight);
        Assert.Equal(KeepalivedFiles.NewSecret, notification.Current.Model.VrrpInstances[0].Authentication?.Password);
        Assert.Equal(applied.Changes.Count, notification.Changes.Count);

        // Nowhere an operator or the store could see it: recorded events, the raw spool, the log lines.
        var nodeEvents = await monitor.Store.ReadAsync(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1), StreamKeys.Node(_node));
        Assert.Contains(nodeEvents, r => r.Event is ConfigurationApplied { Changes.Count: > 0 } a && a.Changes.All(c => c.Change == ChangeKind.Added));
        foreach (var e in nodeEvents)
        {
            AssertNoSecret(JsonSerializer.Serialize(e.Event, EventJson.Options));
        }

        // The segments; the lock file is held open by the running spool and holds nothing.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_files.Folder, "spool"), "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "lock"))
        {
            AssertNoSecret(await File.ReadAllTextAsync(file));
        }

        Assert.Contains(_logs.Lines, l => l.Contains("applied", StringComparison.Ordinal) && l.Contains(Weight, StringComparison.Ordinal));
        AssertNoSecret(string.Join("\n", _logs.Lines));
    }

    [Fact]
    public async Task Reloading_a_broken_file_records_config_rejected_with_located_errors_and_keeps_the_running_configuration()
    {
        var host = await StartServiceAsync();
        var before = Running(host).Loaded;
        var notified = 0;
        using var subscription = Running(host).Subscribe("test", (_, _) =>
        {
            notified++;
            return ValueTask.CompletedTask;
        });

        _files.Write(KeepalivedFiles.Broken(KeepalivedFiles.ThreeEdits(_files.Text)));
        var result = await Reloader(host).ReloadAsync(CancellationToken.None);

        Assert.Equal(ReloadOutcome.Rejected, result.Outcome);
        var recorded = await monitor.WaitForAsync(_node, r => r.Event.EventId == result.Event.EventId, "config.rejected");
        var rejected = Assert.IsType<ConfigurationRejected>(recorded.Event);
        Assert.Equal(_files.Path, rejected.File);
        Assert.True(rejected.Errors.Count >= 2, string.Join("\n", rejected.Errors));
        Assert.All(rejected.Errors, e => Assert.True(KeepalivedFiles.IsLocatedError(e, _files.Path), e));
        Assert.Contains(rejected.Errors, e => e.Contains("virtual_router_id: 256", StringComparison.Ordinal));
        Assert.Contains(rejected.Errors, e => e.Contains("real_server outside any virtual_server", StringComparison.Ordinal));

        Assert.Same(before, Running(host).Loaded);
        Assert.Equal(51, Running(host).Current.VrrpInstances[0].VirtualRouterId);
        Assert.Equal(0, notified);
        var warning = Assert.Single(_logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("rejected", StringComparison.Ordinal));
        Assert.All(rejected.Errors, e => Assert.Contains(e, warning, StringComparison.Ordinal));
        AssertNoSecret(string.Join("\n", _logs.Lines));
    }

    [Fact]
    public async Task Reloading_an_equal_file_records_config_applied_without_changes_and_leaves_observers_alone()
    {
        var host = await StartServiceAsync();
        var before = Running(host).Loaded;
        var notified = 0;
        using var subscription = Running(host).Subscribe("test", (_, _) =>
        {
            notified++;
            return ValueTask.CompletedTask;
        });

        // Every line moves down and gains indentation: locations change, the configuration does not.
        _files.Write("# reformatted\n\n" + _files.Text.Replace("\n    ", "\n      ", StringComparison.Ordinal));
        var result = await Reloader(host).ReloadAsync(CancellationToken.None);

        Assert.Equal(ReloadOutcome.Unchanged, result.Outcome);
        var recorded = await monitor.WaitForAsync(_node, r => r.Event.EventId == result.Event.EventId, "config.applied without changes");
        var applied = Assert.IsType<ConfigurationApplied>(recorded.Event);
        Assert.Empty(applied.Changes);
        Assert.Equal(before.Hash, applied.Hash);
        Assert.Same(before, Running(host).Loaded);
        Assert.Equal(0, notified);
        Assert.Contains(_logs.Lines, l => l.Contains("no change", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_change_only_the_hash_sees_is_still_applied_and_observed()
    {
        var host = await StartServiceAsync();
        var before = Running(host).Loaded;
        var notified = new List<ConfigurationChangedNotification>();
        using var subscription = Running(host).Subscribe("test", (n, _) =>
        {
            notified.Add(n);
            return ValueTask.CompletedTask;
        });

        // A top-level pass-through block: kept verbatim in the model, outside the objects the diff compares.
        _files.Write(_files.Text + "\nstatic_routes {\n    10.1.0.0/16 via 192.168.1.254\n}\n");
        var result = await Reloader(host).ReloadAsync(CancellationToken.None);

        Assert.Equal(ReloadOutcome.Applied, result.Outcome);
        var applied = Assert.IsType<ConfigurationApplied>(result.Event);
        Assert.NotEqual(before.Hash, applied.Hash);
        Assert.Contains(Running(host).Current.OtherSettings, s => s.Keyword == "static_routes");
        Assert.Same(Running(host).Loaded, Assert.Single(notified).Current);
    }

    [Fact]
    public async Task An_invalid_file_at_start_stops_the_host_with_one_message_listing_every_located_error()
    {
        _files.Write(KeepalivedFiles.Broken(_files.Text));
        var builder = await ServiceHosts.CreateBuilderAsync(_node, _files, _logs);

        var failure = Assert.Throws<ConfigurationException>(() => builder.AddKeepalivedConfiguration(["--config", _files.Path]));

        var lines = failure.Message.Split('\n');
        Assert.Contains(_files.Path, lines[0], StringComparison.Ordinal);
        Assert.Contains("not starting", lines[0], StringComparison.Ordinal);
        var errors = lines.Skip(1).ToList();
        Assert.True(errors.Count >= 2, failure.Message);
        Assert.All(errors, e => Assert.True(KeepalivedFiles.IsLocatedError(e, _files.Path), e));
        Assert.Contains(errors, e => e.Contains("virtual_router_id: 256", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_pid_file_names_the_running_process_and_is_removed_on_stop()
    {
        var host = await StartServiceAsync();
        var pidFile = Path.Combine(_files.Folder, "run", "vrrp.pid");

        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(pidFile)).Trim());

        await host.StopAsync();
        Assert.False(File.Exists(pidFile));
    }

    private static void AssertNoSecret(string text)
    {
        Assert.DoesNotContain(KeepalivedFiles.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(KeepalivedFiles.NewSecret, text, StringComparison.Ordinal);
    }
}
