using LvsEvents.Contracts;
using LvsEvents.Keepalived.Diff;
using LvsEvents.Keepalived.Model;
using Xunit;
using VrrpState = LvsEvents.Keepalived.Model.VrrpState;

namespace LvsEvents.Keepalived.Tests;

/// <summary>The configuration blocks of the LVS+Keepalived article (sections 2.3, 2.4 and 5.2), value by value.</summary>
public sealed class ArticleConfigurationTests
{
    private static readonly ConfigurationParseResult Master = ConfigurationParser.ParseFile(TestFiles.TestData("article-master.conf"));

    [Fact]
    public void Master_is_valid_with_two_located_warnings()
    {
        Assert.Empty(Master.Errors);
        var warnings = Master.Warnings.Select(w => (w.Location.Line, w.Message)).ToList();
        Assert.Equal(2, warnings.Count);
        // The page mangled the addresses into "[email protected]": two words where keepalived takes one.
        Assert.Contains(warnings, w => w.Line == 9 && w.Message.Contains("unexpected extra value 'protected]'"));
        Assert.Contains(warnings, w => w.Line == 28 && w.Message.Contains("auth_pass is 14 characters"));
    }

    [Fact]
    public void Master_global_defs()
    {
        var g = Master.Configuration.GlobalDefinitions;
        Assert.Equal("LVS_MASTER", g.RouterId);
        Assert.Equal("root", g.ScriptUser);
        Assert.Null(g.ScriptGroup);
        Assert.True(g.EnableScriptSecurity);
        Assert.Equal(["[email", "protected]"], g.NotificationEmails);
        Assert.Equal("[email", g.NotificationEmailFrom);
        Assert.Equal("127.0.0.1", g.SmtpServer);
        Assert.Equal(25, g.SmtpServerPort);
        Assert.Equal(30, g.SmtpConnectTimeout);
        Assert.Equal(2, g.Location!.Line);
        Assert.Equal(5, g.VrrpGarpMasterDelay);
        Assert.Equal(5, g.VrrpGarpMasterRepeat);
    }

    [Fact]
    public void Master_vrrp_script()
    {
        var script = Assert.Single(Master.Configuration.VrrpScripts);
        Assert.Equal("chk_nginx", script.Name);
        Assert.Equal("/usr/local/bin/check_service.sh", script.Script);
        Assert.Equal(2, script.Interval);
        Assert.Equal(-20, script.Weight);
        Assert.Equal(3, script.Fall);
        Assert.Equal(2, script.Rise);
        Assert.Null(script.Timeout);
        Assert.Null(script.User);
        Assert.Equal(new SourceLocation(TestFiles.TestData("article-master.conf"), 14, 1), script.Location);
    }

    [Fact]
    public void Master_vrrp_instance()
    {
        var vi = Assert.Single(Master.Configuration.VrrpInstances);
        Assert.Equal("VI_1", vi.Name);
        Assert.Equal(VrrpState.Master, vi.State);
        Assert.Equal("eth0", vi.Interface);
        Assert.Equal(51, vi.VirtualRouterId);
        Assert.Equal(100, vi.Priority);
        Assert.Equal(1, vi.AdvertInt);
        Assert.Equal(2, vi.Version);
        Assert.Equal(VrrpAuthenticationType.Pass, vi.Authentication!.Type);
        Assert.Equal("StrongP@ss2024", vi.Authentication.Password);
        var vip = Assert.Single(vi.VirtualIpAddresses);
        Assert.Equal("192.168.1.100", vip.Address);
        Assert.Equal(24, vip.PrefixLength);
        Assert.Equal("eth0", vip.Device);
        Assert.Equal("eth0:1", vip.Label);
        Assert.Null(vip.Scope);
        Assert.Equal(33, vip.Location.Line);
        var tracked = Assert.Single(vi.TrackScripts);
        Assert.Equal("chk_nginx", tracked.Name);
        Assert.Null(tracked.Weight);
        Assert.Equal(new ScriptInvocation("/usr/local/bin/notify.sh master", null, null), vi.NotifyMaster);
        Assert.Equal(new ScriptInvocation("/usr/local/bin/notify.sh backup", null, null), vi.NotifyBackup);
        Assert.Equal(new ScriptInvocation("/usr/local/bin/notify.sh fault", null, null), vi.NotifyFault);
        Assert.Null(vi.NotifyStop);
        Assert.False(vi.NoPreempt);
        Assert.Equal(0, vi.PreemptDelay);
        Assert.True(vi.Accept);
        Assert.Equal(5, vi.GarpMasterDelay);
        Assert.Empty(vi.UnicastPeers);
        Assert.Equal(22, vi.Location.Line);
    }

    [Fact]
    public void Master_virtual_server_and_real_servers()
    {
        var vs = Assert.Single(Master.Configuration.VirtualServers);
        Assert.Equal(VirtualServerKind.Address, vs.Kind);
        Assert.Equal("192.168.1.100", vs.Address);
        Assert.Equal(80, vs.Port);
        Assert.Equal("192.168.1.100:80/TCP", vs.Key);
        Assert.Equal(6, vs.DelayLoop);
        Assert.Equal("wrr", vs.Scheduler);
        Assert.Equal(ForwardingMethod.DirectRouting, vs.ForwardingMethod);
        Assert.Equal(50, vs.PersistenceTimeout);
        Assert.Equal("TCP", vs.Protocol);
        Assert.Equal(1, vs.Quorum);
        Assert.Equal(0, vs.Hysteresis);
        Assert.Equal(3, vs.RealServers.Count);

        var (rs1, rs2, rs3) = (vs.RealServers[0], vs.RealServers[1], vs.RealServers[2]);
        Assert.Equal(("192.168.1.20", 80, 3), (rs1.Address, rs1.Port!.Value, rs1.Weight));
        Assert.Equal(("192.168.1.21", 80, 2), (rs2.Address, rs2.Port!.Value, rs2.Weight));
        Assert.Equal(("192.168.1.22", 80, 1), (rs3.Address, rs3.Port!.Value, rs3.Weight));
        Assert.Equal(ForwardingMethod.DirectRouting, rs1.ForwardingMethod);
        foreach (var rs in new[] { rs1, rs2 })
        {
            var tcp = Assert.IsType<TcpCheck>(Assert.Single(rs.Checkers));
            Assert.Equal(3, tcp.ConnectTimeout);
            Assert.Equal(3, tcp.Retry);
            Assert.Equal(3, tcp.DelayBeforeRetry);
            Assert.Equal(80, tcp.ConnectPort);
            Assert.Equal(6, tcp.DelayLoop);
            Assert.Equal(6, tcp.Warmup);
        }

        var http = Assert.IsType<HttpGetCheck>(Assert.Single(rs3.Checkers));
        var url = Assert.Single(http.Urls);
        Assert.Equal("/health", url.Path);
        Assert.Equal(["200"], url.StatusCodes);
        Assert.Null(url.Digest);
        Assert.Equal(3, http.ConnectTimeout);
        Assert.Equal(3, http.Retry);
        Assert.Equal(3, http.DelayBeforeRetry);
        Assert.Null(http.ConnectPort);
        Assert.Equal(69, http.Location.Line);
    }

    [Fact]
    public void Backup_differences_alone_are_located_errors_for_what_the_fragment_leaves_out()
    {
        var result = ConfigurationParser.ParseFile(TestFiles.TestData("article-backup.conf"));
        var vi = Assert.Single(result.Configuration.VrrpInstances);
        Assert.Equal(VrrpState.Backup, vi.State);
        Assert.Equal(90, vi.Priority);
        var errors = result.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains(errors, e => e.EndsWith(":2:1: error: vrrp_instance VI_1 has no virtual_router_id (1..255)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.EndsWith(":2:1: error: vrrp_instance VI_1 has no interface", StringComparison.Ordinal));
    }

    [Fact]
    public void Backup_node_is_the_master_with_state_and_priority_changed()
    {
        var text = File.ReadAllText(TestFiles.TestData("article-master.conf"))
            .Replace("state MASTER", "state BACKUP").Replace("priority 100", "priority 90");
        var backup = ConfigurationParser.ParseText(text, "/etc/keepalived/keepalived.conf");
        Assert.Empty(backup.Errors);

        var change = Assert.Single(ConfigurationDiff.Compare(Master.Configuration, backup.Configuration));
        Assert.Equal(("vrrp_instance", "VI_1", ChangeKind.Changed), (change.ObjectType, change.Key, change.Change));
        Assert.Equal([new FieldChange("priority", "100", "90"), new FieldChange("state", "master", "backup")], change.Fields);
    }

    [Fact]
    public void Persistence_granularity_block_keeps_values_and_reports_the_prefix_notation()
    {
        var result = ConfigurationParser.ParseFile(TestFiles.TestData("article-persistence.conf"));
        var vs = Assert.Single(result.Configuration.VirtualServers);
        Assert.Equal("192.168.1.100", vs.Address);
        Assert.Equal(80, vs.Port);
        Assert.Equal(1800, vs.PersistenceTimeout);
        Assert.Equal("/24", vs.PersistenceGranularity);
        Assert.Empty(vs.RealServers);

        // keepalived 2.2.7 rejects "/24" too: "Invalid IPv4 persistence_granularity specified - /24".
        var error = Assert.Single(result.Errors);
        Assert.Equal(new SourceLocation(TestFiles.TestData("article-persistence.conf"), 4, 29), error.Location);
        Assert.Contains("not an IPv4 netmask", error.Message);
        Assert.Contains(result.Warnings, w => w.Message.Contains("has no real_server"));
        Assert.Contains(result.Warnings, w => w.Message.Contains("has no protocol"));
    }
}
