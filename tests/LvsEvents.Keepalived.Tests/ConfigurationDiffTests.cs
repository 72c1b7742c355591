using LvsEvents.Contracts;
using LvsEvents.Keepalived.Diff;
using Xunit;

namespace LvsEvents.Keepalived.Tests;

public sealed class ConfigurationDiffTests
{
    private const string Base = """
        global_defs {
            router_id LB1
        }
        vrrp_script chk {
            script /bin/true
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            authentication {
                auth_type PASS
                auth_pass secret1
            }
            virtual_ipaddress {
                10.0.0.1/24
            }
        }
        virtual_server 10.0.0.1 80 {
            protocol TCP
            real_server 10.0.1.1 80 {
                weight 1
                TCP_CHECK {
                    connect_timeout 3
                }
            }
            real_server 10.0.1.2 80 {
                weight 1
            }
        }
        """;

    private static IReadOnlyList<ConfigurationChange> Diff(string before, string after) =>
        ConfigurationDiff.Compare(TestFiles.ParseInMemory(before).Configuration, TestFiles.ParseInMemory(after).Configuration);

    [Fact]
    public void Identical_configurations_have_no_changes_even_when_blocks_move()
    {
        Assert.Empty(Diff(Base, Base));
        var moved = "\n\n# comment\n" + Base;
        Assert.Empty(Diff(Base, moved));
    }

    [Fact]
    public void A_real_server_weight_change_is_a_change_of_that_real_server_only()
    {
        var change = Assert.Single(Diff(Base, Base.Replace("real_server 10.0.1.2 80 {\n        weight 1", "real_server 10.0.1.2 80 {\n        weight 5")));
        Assert.Equal(new ConfigurationChange("real_server", "10.0.0.1:80/TCP -> 10.0.1.2:80", ChangeKind.Changed, change.Fields), change);
        Assert.Equal([new FieldChange("weight", "1", "5")], change.Fields);
    }

    [Fact]
    public void Checker_fields_are_reported_by_path()
    {
        var change = Assert.Single(Diff(Base, Base.Replace("connect_timeout 3", "connect_timeout 4")));
        Assert.Equal("10.0.0.1:80/TCP -> 10.0.1.1:80", change.Key);
        Assert.Equal([new FieldChange("checkers[0].connect_timeout", "3", "4")], change.Fields);
    }

    [Fact]
    public void Added_and_removed_objects_carry_their_fields()
    {
        var changes = Diff(Base, Base.Replace("    real_server 10.0.1.2 80 {\n        weight 1\n    }\n", string.Empty)
            + "\nvrrp_script other {\n    script /bin/false\n}\n");
        Assert.Equal(2, changes.Count);
        var removed = changes.Single(c => c.Change == ChangeKind.Removed);
        Assert.Equal(("real_server", "10.0.0.1:80/TCP -> 10.0.1.2:80"), (removed.ObjectType, removed.Key));
        Assert.Contains(new FieldChange("weight", "1", null), removed.Fields);
        var added = changes.Single(c => c.Change == ChangeKind.Added);
        Assert.Equal(("vrrp_script", "other"), (added.ObjectType, added.Key));
        Assert.Contains(new FieldChange("script", null, "/bin/false"), added.Fields);
    }

    [Fact]
    public void Secrets_are_redacted_but_a_changed_secret_is_still_a_change()
    {
        var changes = Diff(Base, Base.Replace("auth_pass secret1", "auth_pass secret2"));
        var change = Assert.Single(changes);
        Assert.Equal(("vrrp_instance", "VI_1"), (change.ObjectType, change.Key));
        Assert.Equal([new FieldChange("authentication.password", "***", "***")], change.Fields);

        var removed = Diff(Base, Base.Replace("vrrp_instance VI_1", "vrrp_instance VI_2"));
        Assert.All(removed.SelectMany(c => c.Fields), f => Assert.DoesNotContain("secret1", (f.Old ?? string.Empty) + f.New));
        Assert.Contains(removed.SelectMany(c => c.Fields), f => f == new FieldChange("authentication.password", "***", null));
    }

    [Fact]
    public void Changing_the_virtual_server_key_replaces_it_and_its_real_servers()
    {
        var changes = Diff(Base, Base.Replace("virtual_server 10.0.0.1 80", "virtual_server 10.0.0.1 8080"));
        Assert.Equal(
            [
                ("virtual_server", "10.0.0.1:80/TCP", ChangeKind.Removed),
                ("virtual_server", "10.0.0.1:8080/TCP", ChangeKind.Added),
                ("real_server", "10.0.0.1:80/TCP -> 10.0.1.1:80", ChangeKind.Removed),
                ("real_server", "10.0.0.1:80/TCP -> 10.0.1.2:80", ChangeKind.Removed),
                ("real_server", "10.0.0.1:8080/TCP -> 10.0.1.1:80", ChangeKind.Added),
                ("real_server", "10.0.0.1:8080/TCP -> 10.0.1.2:80", ChangeKind.Added),
            ],
            changes.Select(c => (c.ObjectType, c.Key, c.Change)));
    }

    [Fact]
    public void Global_defs_changes_are_keyed_global_defs()
    {
        var change = Assert.Single(Diff(Base, Base.Replace("router_id LB1", "router_id LB2")));
        Assert.Equal(new ConfigurationChange("global_defs", "global_defs", ChangeKind.Changed, [new FieldChange("router_id", "LB1", "LB2")]).ToString(), change with { Fields = [new FieldChange("router_id", "LB1", "LB2")] } is var c ? c.ToString() : string.Empty);
        Assert.Equal([new FieldChange("router_id", "LB1", "LB2")], change.Fields);
    }
}
