using Xunit;

namespace LvsEvents.Keepalived.Tests;

/// <summary>Each rule reports <c>file:line:col</c> of the offending word.</summary>
public sealed class ValidationTests
{
    private const string Instance = """
        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            priority 100
            advert_int 1
            virtual_ipaddress {
                192.168.1.100/24
            }
        }

        """;

    private const string Server = """
        virtual_server 192.168.1.100 80 {
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 192.168.1.20 80 {
                weight 1
            }
        }

        """;

    public static TheoryData<string, string> Errors() => new()
    {
        { Instance.Replace("virtual_router_id 51", "virtual_router_id 256"), "/cfg/keepalived.conf:4:23: error: virtual_router_id: 256 is outside 1..255" },
        { Instance.Replace("virtual_router_id 51", "virtual_router_id 0"), "/cfg/keepalived.conf:4:23: error: virtual_router_id: 0 is outside 1..255" },
        { Instance.Replace("priority 100", "priority 256"), "/cfg/keepalived.conf:5:14: error: priority: 256 is outside 1..255" },
        { Instance.Replace("priority 100", "priority high"), "/cfg/keepalived.conf:5:14: error: priority: 'high' is not an integer" },
        { Instance.Replace("advert_int 1", "advert_int 0.5"), "/cfg/keepalived.conf:6:16: error: advert_int 0.5 is not allowed with VRRP version 2 (whole seconds only; use version 3 for fractions)" },
        { Instance.Replace("advert_int 1", "advert_int 300"), "/cfg/keepalived.conf:6:16: error: advert_int: 300 is outside 0.01..255" },
        { Instance.Replace("advert_int 1", "advert_int 50\n    version 3"), "/cfg/keepalived.conf:6:5: error: advert_int 50 is above the VRRPv3 maximum of 40.95 seconds" },
        { Instance.Replace("state MASTER", "state PRIMARY"), "/cfg/keepalived.conf:2:11: error: state 'PRIMARY' is not MASTER or BACKUP" },
        { Instance.Replace("192.168.1.100/24", "192.168.1.300/24"), "/cfg/keepalived.conf:8:9: error: virtual address '192.168.1.300/24' is not a valid IP address" },
        { Instance.Replace("192.168.1.100/24", "192.168.1.100/33"), "/cfg/keepalived.conf:8:9: error: virtual address '192.168.1.100/33': prefix length must be 0..32" },
        { Instance.Replace("192.168.1.100/24", "192.168.1.100/24 scope galaxy"), "/cfg/keepalived.conf:8:32: error: virtual address 192.168.1.100/24: scope 'galaxy' is not one of site|link|host|nowhere|global" },
        { Instance.Replace("advert_int 1", "advert_int 1\n    track_script {\n        chk_missing weight 10\n    }"), "/cfg/keepalived.conf:8:9: error: vrrp_instance VI_1: track_script chk_missing names no vrrp_script" },
        { Instance.Replace("advert_int 1", "advert_int 1\n    unicast_peer {\n        10.0.0.x\n    }"), "/cfg/keepalived.conf:8:9: error: unicast_peer: '10.0.0.x' is not a valid IP address" },
        { Instance.Replace("advert_int 1", "advert_int 1\n    authentication {\n        auth_type FOO\n    }"), "/cfg/keepalived.conf:8:19: error: auth_type 'FOO' is not PASS or AH" },
        { Instance + Instance, "/cfg/keepalived.conf:11:1: error: vrrp_instance VI_1 is already defined at /cfg/keepalived.conf:1:1" },
        { Instance + Instance.Replace("VI_1", "VI_2"), "/cfg/keepalived.conf:11:1: error: vrrp_instance VI_2 uses virtual_router_id 51 on eth0 (IPv4) like VI_1 at /cfg/keepalived.conf:1:1" },
        { Instance + "real_server 1.2.3.4 80 {\n}\n", "/cfg/keepalived.conf:11:1: error: real_server outside any virtual_server" },
        { Instance + "TCP_CHECK {\n}\n", "/cfg/keepalived.conf:11:1: error: TCP_CHECK outside any real_server" },
        { Instance + "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_9\n    }\n}\n", "/cfg/keepalived.conf:14:9: error: vrrp_sync_group G: vrrp_instance VI_9 is not defined" },
        { Instance.TrimEnd().TrimEnd('}'), "/cfg/keepalived.conf:1:1: error: 'vrrp_instance' block is never closed: missing '}'" },
        { Instance + "}\n", "/cfg/keepalived.conf:11:1: error: extra '}' with no block to close" },
        { Server.Replace("lb_kind DR", "lb_kind FAST"), "/cfg/keepalived.conf:3:13: error: lb_kind 'FAST' is not NAT, DR or TUN" },
        { Server.Replace("lb_algo wrr", "lb_algo fastest"), "/cfg/keepalived.conf:2:13: error: lb_algo 'fastest' is not one of rr|wrr|lc|wlc|lblc|sh|mh|dh|fo|ovf|lblcr|sed|nq|twos" },
        { Server.Replace("192.168.1.100 80", "192.168.1.100 70000"), "/cfg/keepalived.conf:1:30: error: virtual_server port: 70000 is outside 1..65535" },
        { Server.Replace("weight 1", "weight -5"), "/cfg/keepalived.conf:6:16: error: weight: -5 is outside 0..2147483647" },
        { Server.Replace("weight 1", "weight 1\n        uthreshold 5\n        lthreshold 10"), "/cfg/keepalived.conf:5:5: error: real_server 192.168.1.20:80: lthreshold 10 is above uthreshold 5" },
        { Server.Replace("    real_server", "    real_server 192.168.1.20 80 {\n    }\n    real_server"), "/cfg/keepalived.conf:7:5: error: real_server 192.168.1.20:80 is defined twice in virtual_server 192.168.1.100:80/TCP" },
        { Server.Replace("weight 1", "HTTP_GET {\n            connect_timeout 3\n        }"), "/cfg/keepalived.conf:6:9: error: HTTP_GET has no url { ... } to check" },
        { Server.Replace("weight 1", "HTTP_GET {\n            url {\n                path /\n                digest xyz\n            }\n        }"), "/cfg/keepalived.conf:9:24: error: digest 'xyz' is not a 32-digit hexadecimal MD5" },
        { Server.Replace("weight 1", "MISC_CHECK {\n            misc_timeout 3\n        }"), "/cfg/keepalived.conf:6:9: error: MISC_CHECK has no misc_path" },
        { Server.Replace("weight 1", "DNS_CHECK {\n            type BOGUS\n        }"), "/cfg/keepalived.conf:7:18: error: DNS_CHECK type 'BOGUS' is not A, NS, CNAME, SOA, MX, TXT or AAAA" },
        { Server.Replace("protocol TCP", "protocol TCP\n    persistence_timeout 60\n    persistence_granularity /24"), "/cfg/keepalived.conf:6:29: error: persistence_granularity '/24' is not an IPv4 netmask (e.g. 255.255.255.0)" },
        { Server.Replace("192.168.1.100 80", "192.168.1.100"), "/cfg/keepalived.conf:1:1: error: virtual_server 192.168.1.100 has no port; the port may only be omitted for a persistent service" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Reports_the_error_at_its_location(string text, string expected)
    {
        var result = TestFiles.ParseInMemory(text);
        Assert.Contains(expected, result.Errors.Select(e => e.ToString()));
    }

    public static TheoryData<string, string> Warnings() => new()
    {
        { Instance.Replace("advert_int 1", "advert_int 1\n    frobnicate yes"), "/cfg/keepalived.conf:7:5: warning: unknown keyword 'frobnicate' in vrrp_instance VI_1; ignored" },
        { Instance + "frobnicate {\n    x\n}\n", "/cfg/keepalived.conf:11:1: warning: unknown keyword 'frobnicate' in the top level; ignored" },
        { Instance.Replace("advert_int 1", "advert_int 1\n    authentication {\n        auth_type PASS\n        auth_pass 123456789\n    }"), "/cfg/keepalived.conf:7:5: warning: auth_pass is 9 characters; keepalived uses only the first 8" },
        { Instance.Replace("advert_int 1", "advert_int 1\n    nopreempt"), "/cfg/keepalived.conf:1:1: warning: vrrp_instance VI_1: nopreempt does not work with state MASTER; keepalived clears it" },
        { Server + Server.Replace("192.168.1.20", "192.168.1.21"), "/cfg/keepalived.conf:9:1: warning: virtual_server 192.168.1.100:80/TCP is already defined at /cfg/keepalived.conf:1:1" },
        { Server.Replace("protocol TCP\n", ""), "/cfg/keepalived.conf:1:1: warning: virtual_server 192.168.1.100:80/- has no protocol; keepalived defaults to UDP" },
        { Server.Replace("192.168.1.20 80", "192.168.1.20 8080"), "/cfg/keepalived.conf:5:5: warning: real_server 192.168.1.20:8080: port differs from virtual_server port 80 with DR; keepalived resets it" },
        { Server.Replace("weight 1", "TCP_CHECK {\n            nb_get_retry 2\n        }"), "/cfg/keepalived.conf:7:13: warning: nb_get_retry is deprecated; use retry" },
        { "vrrp_script s {\n    script /bin/true\n}\n" + Instance, "/cfg/keepalived.conf:1:1: warning: scripts are configured but global_defs has no enable_script_security; keepalived running as root will not run them" },
    };

    [Theory]
    [MemberData(nameof(Warnings))]
    public void Reports_the_warning_at_its_location_without_failing(string text, string expected)
    {
        var result = TestFiles.ParseInMemory(text);
        Assert.Empty(result.Errors);
        Assert.Contains(expected, result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Every_problem_of_a_broken_file_is_reported_not_only_the_first()
    {
        var text = Instance.Replace("virtual_router_id 51", "virtual_router_id 300").Replace("priority 100", "priority 0")
                   + "real_server 1.2.3.4 80 {\n}\n";
        var result = TestFiles.ParseInMemory(text);
        // Line 1: the rejected VRID leaves the instance without one.
        Assert.Equal([1, 4, 5, 11], result.Errors.Select(e => e.Location.Line).Distinct().Order());
    }
}
