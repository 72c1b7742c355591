using System.Text.RegularExpressions;

namespace LvsEvents.Configuration.Tests;

/// <summary>
/// A keepalived.conf in a temp folder, based on the article's master configuration
/// (tests/LvsEvents.Keepalived.Tests/TestData/article-master.conf), and the edits the tests make to it.
/// </summary>
public sealed partial class KeepalivedFiles : IDisposable
{
    public const string Secret = "S3cr3tPw";
    public const string NewSecret = "N3wS3cr8";

    public const string Valid = $$"""
        # /etc/keepalived/keepalived.conf - Master node configuration
        global_defs {
            router_id LVS_MASTER
            script_user root
            enable_script_security
        }

        vrrp_script chk_nginx {
            script "/usr/local/bin/check_service.sh"
            interval 2
            weight -20
            fall 3
            rise 2
        }

        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            priority 100
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass {{Secret}}
            }
            virtual_ipaddress {
                192.168.1.100/24 dev eth0 label eth0:1
            }
            track_script {
                chk_nginx
            }
        }

        virtual_server 192.168.1.100 80 {
            delay_loop 6
            lb_algo wrr
            lb_kind DR
            persistence_timeout 50
            protocol TCP
            real_server 192.168.1.20 80 {
                weight 3
                TCP_CHECK {
                    connect_timeout 3
                    connect_port 80
                }
            }
            real_server 192.168.1.21 80 {
                weight 2
                TCP_CHECK {
                    connect_timeout 3
                    connect_port 80
                }
            }
            real_server 192.168.1.22 80 {
                weight 1
                HTTP_GET {
                    url {
                        path /health
                        status_code 200
                    }
                    connect_timeout 3
                }
            }
        }

        """;

    /// <summary>A second service to add on reload.</summary>
    public const string HttpsVirtualServer = """

        virtual_server 192.168.1.101 443 {
            delay_loop 6
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 192.168.1.30 443 {
                weight 1
                TCP_CHECK {
                    connect_timeout 3
                }
            }
        }

        """;

    public KeepalivedFiles()
    {
        Directory.CreateDirectory(Folder);
        File.WriteAllText(Path, Valid);
    }

    /// <summary>Holds the file, the spool and the run directory of one test.</summary>
    public string Folder { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lvs-configuration-test-" + Guid.NewGuid().ToString("N"));

    public string Path => System.IO.Path.Combine(Folder, "keepalived.conf");

    public string Text => File.ReadAllText(Path);

    public void Write(string text) => File.WriteAllText(Path, text);

    /// <summary>Replaces exactly one occurrence, so an edit that no longer matches the base text fails loudly.</summary>
    public static string ReplaceOnce(string text, string old, string replacement)
    {
        var at = text.IndexOf(old, StringComparison.Ordinal);
        Assert.True(at >= 0 && text.IndexOf(old, at + old.Length, StringComparison.Ordinal) < 0, $"'{old}' must occur once in the test file");
        return string.Concat(text.AsSpan(0, at), replacement, text.AsSpan(at + old.Length));
    }

    /// <summary>Weight 3 -> 5 on 192.168.1.20, a new virtual server 192.168.1.101:443, and a new auth_pass.</summary>
    public static string ThreeEdits(string text)
    {
        var edited = ReplaceOnce(text, "real_server 192.168.1.20 80 {\n        weight 3", "real_server 192.168.1.20 80 {\n        weight 5");
        edited = ReplaceOnce(edited, $"auth_pass {Secret}", $"auth_pass {NewSecret}");
        return edited + HttpsVirtualServer;
    }

    /// <summary>Two errors: a VRID out of range and a real_server outside any virtual_server.</summary>
    public static string Broken(string text) =>
        ReplaceOnce(text, "virtual_router_id 51", "virtual_router_id 256") + "\nreal_server 10.0.0.1 80 {\n    weight 1\n}\n";

    /// <summary>Matches one located error of <paramref name="file"/>: <c>file:line:col: error: message</c>.</summary>
    public static bool IsLocatedError(string line, string file) =>
        line.StartsWith(file + ":", StringComparison.Ordinal) && LocatedErrorPattern().IsMatch(line[file.Length..]);

    public void Dispose()
    {
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    [GeneratedRegex(@"^:\d+:\d+: error: \S")]
    private static partial Regex LocatedErrorPattern();
}
