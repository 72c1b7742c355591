using System.Net;

namespace LvsEvents.Vrrp.Transport.Tests;

/// <summary>
/// Debian's keepalived, VRRP only, in the foreground of one lab node: config, pid files and output live in a
/// private temp directory so a system keepalived (if any) is never touched.
/// </summary>
public sealed class KeepalivedNode : IDisposable
{
    public const byte Vrid = 51;
    public const string Password = "s3cret";
    public const byte Priority = 100;
    public const byte IntervalSeconds = 1;

    private readonly string _directory;

    public KeepalivedNode(LabNode node, IPAddress vip)
    {
        Node = node;
        Vip = vip;
        _directory = Directory.CreateTempSubdirectory("lvt-keepalived-").FullName;
        var config = Path.Combine(_directory, "keepalived.conf");
        File.WriteAllText(config, $$"""
            global_defs {
              router_id {{node.Name}}
              # so the test can see that a packet with a foreign VRID arrived and was dropped
              log_unknown_vrids
            }
            vrrp_instance VI_1 {
              state MASTER
              interface eth0
              virtual_router_id {{Vrid}}
              priority {{Priority}}
              advert_int {{IntervalSeconds}}
              authentication {
                auth_type PASS
                auth_pass {{Password}}
              }
              virtual_ipaddress {
                {{vip}}/24 dev eth0
              }
            }
            """);
        // -P VRRP only, -n foreground, -l log to console, -G not to syslog, -D detail; private pid files.
        Process = node.Start("keepalived", "-P", "-n", "-l", "-G", "-D", "-f", config,
            "-p", Path.Combine(_directory, "keepalived.pid"), "-r", Path.Combine(_directory, "vrrp.pid"));
    }

    public LabNode Node { get; }
    public IPAddress Vip { get; }
    public LabProcess Process { get; }

    public bool HoldsVip => Node.Addresses().Contains(Vip);

    /// <summary>Waits until keepalived is MASTER with the VIP on eth0.</summary>
    public async Task WaitUntilMaster(TimeSpan timeout)
    {
        var took = await Poll.Until(() => HoldsVip || Process.HasExited, timeout);
        Assert.False(Process.HasExited, $"keepalived exited:\n{Process.OutputText}");
        Assert.True(took is not null, $"keepalived did not take {Vip} within {timeout}:\n{Process.OutputText}");
    }

    public void Dispose()
    {
        Process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
