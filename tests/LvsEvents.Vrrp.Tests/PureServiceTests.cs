using System.Net;
using LvsEvents.Contracts;
using LvsEvents.Keepalived;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Definitions;
using LvsEvents.Vrrp.Protocol;
using LvsEvents.Vrrp.Tracking;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.Vrrp.Tests;

/// <summary>The service's pure parts: keepalived.conf to instance definitions, tracking arithmetic, rise/fall.</summary>
public sealed class PureServiceTests
{
    private static (VrrpPlan Plan, IReadOnlyList<string> Errors) Compile(string text)
    {
        var parsed = ConfigurationParser.ParseText(text, "/etc/keepalived/keepalived.conf");
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Errors));
        return VrrpInstanceCompiler.Compile(parsed.Configuration, new VrrpServiceOptions());
    }

    [Fact]
    public void The_articles_master_instance_compiles_with_keepalived_defaults()
    {
        var (plan, errors) = Compile("""
            global_defs {
              router_id LVS_MASTER
            }
            vrrp_script chk_nginx {
              script "killall -0 nginx"
              interval 2
              weight -20
              fall 3
            }
            vrrp_instance VI_1 {
              state MASTER
              interface eth0
              virtual_router_id 51
              priority 100
              advert_int 1
              authentication {
                auth_type PASS
                auth_pass 1111
              }
              track_script {
                chk_nginx
              }
              virtual_ipaddress {
                192.168.1.100/24 dev eth0 label eth0:1
                192.168.1.101
              }
            }
            """);
        Assert.Empty(errors);
        var vi = Assert.Single(plan.Instances);
        Assert.Equal("eth0", vi.Interface);
        Assert.Equal(51, vi.VirtualRouterId);
        Assert.Equal(VrrpState.Master, vi.InitialState);
        Assert.Equal(VrrpAuthenticationType.SimpleText, vi.AuthenticationType);
        Assert.Equal(new VirtualAddress(IPAddress.Parse("192.168.1.100"), 24, "eth0", "eth0:1"), vi.VirtualAddresses[0]);
        // keepalived: no mask means /32.
        Assert.Equal(32, vi.VirtualAddresses[1].PrefixLength);
        Assert.Equal(GratuitousArpSettings.KeepalivedDefaults with { Interval = TimeSpan.Zero }, vi.GratuitousArp);
        // The instance's own interface is tracked (FAULT when it goes down), and the script by its weight.
        Assert.Equal([new PriorityTrack(TrackedKind.Interface, "eth0", 0, false), new PriorityTrack(TrackedKind.Script, "chk_nginx", -20, false)], vi.Tracks);
        var script = Assert.Single(plan.Scripts);
        Assert.Equal(TimeSpan.FromSeconds(2), script.Timeout);
        Assert.Equal(3, script.Fall);
        Assert.Null(plan.NetworkNamespace);
    }

    [Fact]
    public void What_keepalived_accepts_but_this_speaker_cannot_do_is_named_with_file_line_and_column()
    {
        // The keepalived validator has passed these; they are limits of this speaker (AH, IPv6 VRRP).
        var (_, errors) = Compile("""
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              authentication {
                auth_type AH
                auth_pass secret
              }
              virtual_ipaddress {
                fd00::1/64
              }
            }
            """);
        Assert.Contains(errors, e => e.StartsWith("/etc/keepalived/keepalived.conf:4:3: vrrp_instance VI_1: auth_type AH is not supported", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("/etc/keepalived/keepalived.conf:9:", StringComparison.Ordinal) && e.Contains("only IPv4", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public void A_reload_that_only_moves_a_block_keeps_the_fingerprint()
    {
        const string vi1 = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n";
        const string vi2 = "vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 52\n  virtual_ipaddress {\n    10.0.0.2/24\n  }\n}\n";
        var before = Compile(vi1 + vi2).Plan.Instances.Single(i => i.Name == "VI_1");
        var after = Compile("# comment\n" + vi2 + vi1).Plan.Instances.Single(i => i.Name == "VI_1");
        Assert.Equal(before.Fingerprint(), after.Fingerprint());
        var changed = Compile(vi1.Replace("10.0.0.1/24", "10.0.0.3/24", StringComparison.Ordinal)).Plan.Instances.Single();
        Assert.NotEqual(before.Fingerprint(), changed.Fingerprint());
    }

    [Theory]
    [InlineData(true, true, 110)]   // a positive weight counts while up
    [InlineData(false, true, 100)]
    [InlineData(true, false, 90)]   // a negative weight counts while down
    [InlineData(false, false, 80)]
    public void Weights_move_the_priority_as_keepalived_does(bool scriptUp, bool interfaceUp, int expected)
    {
        PriorityTrack[] tracks = [new(TrackedKind.Script, "s", 10, false), new(TrackedKind.Interface, "i", -20, false)];
        var verdict = TrackedPriority.Evaluate(100, tracks, t => t.Kind == TrackedKind.Script ? scriptUp : interfaceUp);
        Assert.Equal(expected, verdict.EffectivePriority);
        Assert.Null(verdict.Fault);
    }

    [Fact]
    public void Negative_weights_apply_while_down_reverse_flips_and_weight_0_faults()
    {
        PriorityTrack script = new(TrackedKind.Script, "s", -30, false);
        Assert.Equal(70, TrackedPriority.Evaluate(100, [script], _ => false).EffectivePriority);
        Assert.Equal(100, TrackedPriority.Evaluate(100, [script], _ => true).EffectivePriority);
        // reverse: the weight counts the other way (-30 becomes +30 while up).
        Assert.Equal(130, TrackedPriority.Evaluate(100, [script with { Reverse = true }], _ => true).EffectivePriority);
        var fault = TrackedPriority.Evaluate(100, [new PriorityTrack(TrackedKind.Interface, "eth1", 0, false)], _ => false);
        Assert.Equal(VrrpTransitionReason.InterfaceDown, fault.Fault);
        // Never below 1 or above 254; the address owner keeps 255.
        Assert.Equal(1, TrackedPriority.Evaluate(10, [script], _ => false).EffectivePriority);
        Assert.Equal(254, TrackedPriority.Evaluate(250, [script with { Weight = 30 }], _ => true).EffectivePriority);
        Assert.Equal(255, TrackedPriority.Evaluate(255, [script], _ => false).EffectivePriority);
    }

    [Fact]
    public void Rise_and_fall_need_that_many_results_in_a_row()
    {
        var monitor = new VrrpScriptMonitor(new VrrpScriptDefinition("s", "true", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 0, false, Rise: 2, Fall: 3, InitiallyFailed: false), null, NullLogger.Instance);
        var flips = 0;
        monitor.Changed += _ => flips++;
        monitor.Record(false);
        monitor.Record(false);
        monitor.Record(true); // a success resets the failure streak
        monitor.Record(false);
        monitor.Record(false);
        Assert.True(monitor.IsUp);
        monitor.Record(false);
        Assert.False(monitor.IsUp);
        monitor.Record(true);
        Assert.False(monitor.IsUp);
        monitor.Record(true);
        Assert.True(monitor.IsUp);
        Assert.Equal(2, flips);
    }
}
