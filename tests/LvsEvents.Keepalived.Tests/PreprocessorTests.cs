using LvsEvents.Keepalived.Model;
using Xunit;

namespace LvsEvents.Keepalived.Tests;

/// <summary>Includes, conditionals, definitions, ~SEQ/~LST, comments and quoting.</summary>
public sealed class PreprocessorTests
{
    private const string Instance = """
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            virtual_ipaddress {
                10.0.0.1
            }
        }
        """;

    [Fact]
    public void Includes_resolve_relative_to_the_including_file_and_expand_globs_in_order()
    {
        var result = TestFiles.ParseInMemory(
            "include conf.d/*.conf\n",
            ("conf.d/20-b.conf", "include ../sub/{x,y}.conf\n"),
            ("conf.d/10-a.conf", "vrrp_script a {\n script /bin/true\n}\n"),
            ("sub/x.conf", "vrrp_script x {\n script /bin/true\n}\n"),
            ("sub/y.conf", "vrrp_script y {\n script /bin/true\n}\n"));
        Assert.Equal(["a", "x", "y"], result.Configuration.VrrpScripts.Select(s => s.Name));
        Assert.Equal("/cfg/sub/y.conf", result.Configuration.VrrpScripts[2].Location.File);
        Assert.Equal(["/cfg/keepalived.conf", "/cfg/conf.d/10-a.conf", "/cfg/conf.d/20-b.conf", "/cfg/sub/x.conf", "/cfg/sub/y.conf"], result.Files);
    }

    [Fact]
    public void Missing_include_and_include_loop_are_located_errors()
    {
        var missing = TestFiles.ParseInMemory("global_defs {\n}\n  include nope.conf\n");
        var error = Assert.Single(missing.Errors);
        Assert.Equal("/cfg/keepalived.conf:3:3: error: cannot read /cfg/nope.conf: no such file", error.ToString());

        var loop = TestFiles.ParseInMemory("include a.conf\n", ("a.conf", "include keepalived.conf\n"));
        Assert.Contains(loop.Errors, e => e.Location.File == "/cfg/a.conf" && e.Message.Contains("include loop"));

        var emptyGlob = TestFiles.ParseInMemory("include conf.d/*.conf\n");
        Assert.Empty(emptyGlob.Errors);
        Assert.Contains(emptyGlob.Warnings, w => w.Message.Contains("matches no files"));
    }

    [Fact]
    public void Missing_main_file_is_a_located_error()
    {
        var result = ConfigurationParser.ParseFile("/nonexistent/keepalived.conf");
        Assert.Equal("/nonexistent/keepalived.conf:1:1: error: cannot read /nonexistent/keepalived.conf: no such file", Assert.Single(result.Diagnostics).ToString());
    }

    [Theory]
    [InlineData("lb1", "main", 150, new[] { "10.0.0.2", "10.0.0.3" })]
    [InlineData("lb2", "backup", 100, new[] { "10.0.0.1", "10.0.0.3" })]
    [InlineData("other", null, 100, new[] { "10.0.0.1", "10.0.0.2", "10.0.0.3" })]
    public void Conditional_lines_follow_the_config_id(string configId, string? routerId, int priority, string[] peers)
    {
        const string text = """
            global_defs {
                @lb1 router_id main
                @lb2 router_id backup
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                @lb1 priority 150
                unicast_peer {
                    @^lb1 10.0.0.1
                    @^lb2 10.0.0.2
                    @^lb3 10.0.0.3
                }
                virtual_ipaddress {
                    10.0.1.1
                }
            }
            """;
        var result = ConfigurationParser.ParseText(text, "/cfg/keepalived.conf", new ParserOptions { ConfigId = configId });
        Assert.Empty(result.Diagnostics);
        Assert.Equal(routerId, result.Configuration.GlobalDefinitions.RouterId);
        var vi = result.Configuration.VrrpInstances[0];
        Assert.Equal(priority, vi.Priority);
        Assert.Equal(peers, vi.UnicastPeers.Select(p => p.Address));
    }

    [Fact]
    public void Definitions_substitute_recursively_at_use_time()
    {
        const string text = """
            $ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}
            $ADDRESS_BASE_SUB=0
            $IF_MAIN=@lb1
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                $IF_MAIN priority 240
                virtual_ipaddress {
                    ${ADDRESS_BASE}.100/32
                    $ADDRESS_BASE_SUB=10
                    ${ADDRESS_BASE}.100/32
                    $UNDEFINED_STAYS
                }
            }
            """;
        var result = TestFiles.ParseInMemory(text);
        var vi = result.Configuration.VrrpInstances[0];
        Assert.Equal(240, vi.Priority);
        Assert.Equal(["10.2.0.100", "10.2.10.100"], vi.VirtualIpAddresses.Select(a => a.Address));
        var error = Assert.Single(result.Errors);
        Assert.Equal(new SourceLocation("/cfg/keepalived.conf", 12, 9), error.Location);
        Assert.Contains("'$UNDEFINED_STAYS' is not a valid IP address", error.Message);
    }

    [Fact]
    public void Multi_line_definitions_sequences_and_lists_expand_like_keepalived()
    {
        const string text = """
            $RS= \
            real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \
                weight ${RS_NUM} \

                TCP_CHECK { \
                } \
            }
            $VS= \
            virtual_server 10.0.${VS_NUM}.4 80 { \
                protocol TCP \
                $RS_NUM=1 \
                $RS \
                $RS_NUM=2 \
                $RS \
            }
            $VS_NUM=0
            $VS
            $VS_NUM=1
            $VS
            virtual_server 10.9.9.9 80 {
                protocol TCP
                ~SEQx(H, 0x0e, 2, 0x12) real_server 2001:db8::${H} 80 { }
                ~LST({A, W}, {1, 5}, {2, 6}) real_server 10.8.0.${A} 80 { weight ${W} }
            }
            """;
        var result = TestFiles.ParseInMemory(text);
        Assert.Empty(result.Errors);
        var servers = result.Configuration.VirtualServers;
        Assert.Equal(["10.0.0.4:80/TCP", "10.0.1.4:80/TCP", "10.9.9.9:80/TCP"], servers.Select(v => v.Key));
        Assert.Equal(["192.168.1.1:80", "192.168.1.2:80"], servers[1].RealServers.Select(r => r.Endpoint));
        Assert.Equal([1, 2], servers[1].RealServers.Select(r => r.Weight));
        Assert.IsType<TcpCheck>(Assert.Single(servers[0].RealServers[0].Checkers));
        Assert.Equal(["2001:db8::e", "2001:db8::10", "2001:db8::12", "10.8.0.1", "10.8.0.2"], servers[2].RealServers.Select(r => r.Address));
        Assert.Equal([1, 1, 1, 5, 6], servers[2].RealServers.Select(r => r.Weight));
    }

    [Fact]
    public void Comments_quotes_escapes_and_braces_on_the_next_line()
    {
        const string text = """
            ! a comment
            vrrp_script chk   # trailing comment
            {
                script "/bin/echo 'a b' \x41\t#not-a-comment"
                user nobody nogroup
            }
            vrrp_instance VI_1 { interface eth0 ; virtual_router_id 7 }
            """;
        var result = TestFiles.ParseInMemory(text);
        var script = Assert.Single(result.Configuration.VrrpScripts);
        Assert.Equal("/bin/echo 'a b' A\t#not-a-comment", script.Script);
        Assert.Equal(("nobody", "nogroup"), (script.User, script.Group));
        Assert.Equal(new SourceLocation("/cfg/keepalived.conf", 2, 1), script.Location);
        // One line is one statement: everything after "interface" is its arguments, as in keepalived.
        Assert.Equal("eth0", result.Configuration.VrrpInstances[0].Interface);
        Assert.Contains(result.Errors, e => e.Location.Line == 7 && e.Message.Contains("has no virtual_router_id"));
    }

    [Fact]
    public void A_value_on_the_next_line_is_a_missing_value_like_in_keepalived()
    {
        var result = TestFiles.ParseInMemory(Instance.Replace("virtual_router_id 51", "virtual_router_id\n51"));
        Assert.Contains(result.Errors, e => e.Location.Line == 3 && e.Message == "'virtual_router_id' is missing a value");
        Assert.Contains(result.Warnings, w => w.Location.Line == 4 && w.Message.Contains("unknown keyword '51'"));
    }
}
