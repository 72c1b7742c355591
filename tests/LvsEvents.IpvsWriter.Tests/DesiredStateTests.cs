using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Desired;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Tests;

public sealed class DesiredStateTests
{
    private const string Service = "TCP/192.168.1.100:80";

    private static readonly KeepalivedConfiguration Configuration = Config.Parse("""
        virtual_server 192.168.1.100 80 {
            delay_loop 6
            lb_algo wrr
            lb_kind NAT
            persistence_timeout 300
            protocol TCP
            quorum 4
            sorry_server 192.168.1.99 8080
            real_server 192.168.1.21 80 {
                weight 3
                TCP_CHECK { connect_timeout 3 }
            }
            real_server 192.168.1.22 80 {
                weight 2
                inhibit_on_failure
                TCP_CHECK { connect_timeout 3 }
            }
            real_server 192.168.1.23 80 {
                weight 1
                TCP_CHECK { connect_timeout 3 }
            }
        }
        virtual_server fwmark 7 {
            lb_algo rr
            lb_kind DR
            real_server 10.0.0.5 {
                weight 1
            }
        }
        """);

    private static KernelService Only(KernelTable table, string key = "TCP 192.168.1.100:80") =>
        table.Services.Values.Single(s => s.Key.ToString() == key);

    private static Dictionary<string, int> Weights(KernelService service) =>
        service.Destinations.Values.ToDictionary(d => d.Key.ToString(), d => d.Weight);

    [Fact]
    public void Configured_weights_and_settings_when_everything_is_up()
    {
        var table = DesiredState.Build(Configuration, HealthView.Empty, WeightOverrides.None);

        Assert.Equal(
            [
                "-A -t 192.168.1.100:80 -s wrr -p 300",
                "-a -t 192.168.1.100:80 -r 192.168.1.21:80 -m -w 3",
                "-a -t 192.168.1.100:80 -r 192.168.1.22:80 -m -w 2",
                "-a -t 192.168.1.100:80 -r 192.168.1.23:80 -m -w 1",
                "-A -f 7 -s rr",
                "-a -f 7 -r 10.0.0.5:0 -g -w 1",
            ],
            table.SaveLines());
    }

    [Fact]
    public void Down_removes_a_server_or_keeps_it_at_weight_0_with_inhibit_on_failure()
    {
        var health = HealthView.Empty
            .Apply(Config.Down(Service, "192.168.1.21:80"))
            .Apply(Config.Down(Service, "192.168.1.22:80"));

        var service = Only(DesiredState.Build(Configuration, health, WeightOverrides.None));

        // 1 live weight < quorum 4: the sorry server alone.
        Assert.Equal(new Dictionary<string, int> { ["192.168.1.99:8080"] = 1 }, Weights(service));

        var looser = Configuration with { VirtualServers = [Configuration.VirtualServers[0] with { Quorum = 1 }] };
        Assert.Equal(new Dictionary<string, int> { ["192.168.1.22:80"] = 0, ["192.168.1.23:80"] = 1 }, Weights(Only(DesiredState.Build(looser, health, WeightOverrides.None))));
    }

    [Fact]
    public void Quorum_decided_by_the_health_service_wins_over_the_computed_one()
    {
        var lost = HealthView.Empty.Apply(new VirtualServiceQuorumChanged
        {
            VirtualService = VirtualServiceRef.Parse(Service), Up = false, LiveWeight = 0, Quorum = 4, Hysteresis = 0,
        });

        Assert.Equal(["192.168.1.99:8080"], Weights(Only(DesiredState.Build(Configuration, lost, WeightOverrides.None))).Keys);

        var back = lost.Apply(new VirtualServiceQuorumChanged { VirtualService = VirtualServiceRef.Parse(Service), Up = true, LiveWeight = 6, Quorum = 4, Hysteresis = 0 });
        Assert.Equal(3, Weights(Only(DesiredState.Build(Configuration, back, WeightOverrides.None))).Count);
    }

    [Fact]
    public void Sorry_server_inhibit_keeps_the_sorry_server_at_weight_0_while_the_quorum_holds()
    {
        var inhibited = Configuration with { VirtualServers = [Configuration.VirtualServers[0] with { SorryServerInhibit = true }] };

        var weights = Weights(Only(DesiredState.Build(inhibited, HealthView.Empty, WeightOverrides.None)));

        Assert.Equal(0, weights["192.168.1.99:8080"]);
        Assert.Equal(4, weights.Count);
    }

    [Fact]
    public void Operator_weight_wins_over_dynamic_weight_which_wins_over_configuration_and_restore_undoes_it()
    {
        var server = RealServerRef.Parse($"{Service}->192.168.1.23:80");
        var health = HealthView.Empty.Apply(new RealServerWeightChanged { RealServer = server, OldWeight = 1, NewWeight = 7, Cause = WeightChangeCause.Health });
        Assert.Equal(7, Weights(Only(DesiredState.Build(Configuration, health, WeightOverrides.None)))["192.168.1.23:80"]);

        var now = DateTimeOffset.UtcNow;
        var overrides = WeightOverrides.None.Apply(new SetWeightCommand { RealServer = server, Weight = 9, Cause = WeightChangeCause.Operator, RequestedBy = "ops" }, now);
        Assert.Equal(9, Weights(Only(DesiredState.Build(Configuration, health, overrides)))["192.168.1.23:80"]);

        overrides = overrides.Apply(new RestoreCommand { RealServer = server, RequestedBy = "ops" }, now);
        Assert.Equal(7, Weights(Only(DesiredState.Build(Configuration, health, overrides)))["192.168.1.23:80"]);
    }

    [Fact]
    public void Drain_sets_weight_0_then_removes_the_server_once_finished()
    {
        var server = RealServerRef.Parse($"{Service}->192.168.1.21:80");
        var now = DateTimeOffset.UtcNow;
        var overrides = WeightOverrides.None.Apply(new DrainCommand { RealServer = server, Timeout = TimeSpan.FromSeconds(30), RequestedBy = "ops" }, now);
        // A drained server's weight no longer counts for the quorum: 2 + 1 < 4 would bring the sorry server in.
        Assert.Equal(["192.168.1.99:8080"], Weights(Only(DesiredState.Build(Configuration, HealthView.Empty, overrides))).Keys);
        var configuration = Configuration with { VirtualServers = [Configuration.VirtualServers[0] with { Quorum = 1 }] };

        Assert.Equal(0, Weights(Only(DesiredState.Build(configuration, HealthView.Empty, overrides)))["192.168.1.21:80"]);
        Assert.False(overrides.Drains[server].TimedOut(now + TimeSpan.FromSeconds(29)));
        Assert.True(overrides.Drains[server].TimedOut(now + TimeSpan.FromSeconds(30)));

        overrides = overrides.FinishDrain(server);
        Assert.Equal(["192.168.1.22:80", "192.168.1.23:80"], Weights(Only(DesiredState.Build(configuration, HealthView.Empty, overrides))).Keys);
    }

    [Fact]
    public void Events_with_differently_written_addresses_still_match_the_configuration()
    {
        var health = HealthView.Empty.Apply(Config.Down("tcp/192.168.001.100:80".Replace("001", "1", StringComparison.Ordinal), "192.168.1.23:80"));

        Assert.DoesNotContain("192.168.1.23:80", Weights(Only(DesiredState.Build(Configuration, health, WeightOverrides.None))).Keys);
    }

    [Fact]
    public void Alpha_servers_start_down_until_a_checker_says_up()
    {
        var alpha = Configuration with { VirtualServers = [Configuration.VirtualServers[0] with { Alpha = true, Quorum = 1, SorryServer = null }] };
        Assert.DoesNotContain(Only(DesiredState.Build(alpha, HealthView.Empty, WeightOverrides.None)).Destinations.Values, d => d.Weight > 0);

        var up = HealthView.Empty.Apply(Config.Up(Service, "192.168.1.23:80"));
        Assert.Equal(1, Weights(Only(DesiredState.Build(alpha, up, WeightOverrides.None)))["192.168.1.23:80"]);
    }

    [Fact]
    public void A_group_becomes_one_kernel_service_per_member_address_and_mark()
    {
        var configuration = Config.Parse("""
            virtual_server_group web {
                10.0.0.1-3 80
                10.0.1.0/30 443
                fwmark 9
            }
            virtual_server group web {
                lb_algo rr
                protocol TCP
                real_server 10.1.0.1 80 {
                    weight 2
                }
            }
            """);

        var table = DesiredState.Build(configuration, HealthView.Empty, WeightOverrides.None);

        Assert.Equal(
            ["TCP 10.0.0.1:80", "TCP 10.0.0.2:80", "TCP 10.0.0.3:80", "TCP 10.0.1.0:443", "TCP 10.0.1.1:443", "TCP 10.0.1.2:443", "TCP 10.0.1.3:443", "FWM 9"],
            table.Services.Keys.Select(k => k.ToString()));
        Assert.All(table.Services.Values, s => Assert.Equal(2, s.Destinations.Values.Single().Weight));
        var down = HealthView.Empty.Apply(Config.Down("GROUP/web", "10.1.0.1:80"));
        Assert.All(DesiredState.Build(configuration, down, WeightOverrides.None).Services.Values, s => Assert.Empty(s.Destinations));
    }

    [Fact]
    public void A_real_server_without_a_port_answers_to_the_health_service_s_name_and_to_the_kernel_s()
    {
        var configuration = Config.Parse("""
            virtual_server 10.0.0.1 80 {
                lb_algo wrr
                protocol TCP
                real_server 10.1.0.1 {
                    weight 2
                    TCP_CHECK { connect_port 80 }
                }
            }
            """);
        var vs = configuration.VirtualServers[0];
        Assert.Equal("TCP/10.0.0.1:80->10.1.0.1:0", DesiredState.ReferenceOf(vs, vs.RealServers[0]).ToString());
        Assert.Equal(["-A -t 10.0.0.1:80 -s wrr", "-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 2"], DesiredState.Build(configuration, HealthView.Empty, WeightOverrides.None).SaveLines());

        // The health service names it with port 0 ...
        var down = HealthView.Empty.Apply(Config.Down("TCP/10.0.0.1:80", "10.1.0.1:0"));
        Assert.Empty(DesiredState.Build(configuration, down, WeightOverrides.None).Services.Values.Single().Destinations);

        // ... an operator may use the port the kernel shows.
        var overrides = WeightOverrides.None.Apply(new SetWeightCommand
        {
            RealServer = RealServerRef.Parse("TCP/10.0.0.1:80->10.1.0.1:80"), Weight = 7, Cause = WeightChangeCause.Operator, RequestedBy = "ops",
        }, DateTimeOffset.UtcNow);
        Assert.Equal(7, DesiredState.Build(configuration, HealthView.Empty, overrides).Services.Values.Single().Destinations.Values.Single().Weight);
    }
}
