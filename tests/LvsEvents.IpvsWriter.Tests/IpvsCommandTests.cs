using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;
using LvsEvents.Lvsctl.Commands;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary><c>lvsctl ipvs list|save</c> against a live nftables table in a namespace.</summary>
public sealed class IpvsCommandTests : IDisposable
{
    private readonly NftNamespace _ns = new();

    public IpvsCommandTests()
    {
        var table = KernelTable.Of(
        [
            KernelService.Create(new ServiceKey("TCP", "10.0.0.1", 80), "wrr", null, null,
                [new KernelDestination(new DestinationKey("10.1.0.1", 80), 3), new KernelDestination(new DestinationKey("10.1.0.2", 80), 0)]),
            KernelService.Create(new ServiceKey("UDP", "10.0.0.2", 53), "sh", 300, "255.255.255.0", [new KernelDestination(new DestinationKey("10.1.0.3", 53), 1, ForwardingMethod.Nat)]),
        ]);
        new NftablesBackend(_ns.Nft).ReplaceAsync(table, default).GetAwaiter().GetResult();
    }

    public void Dispose() => _ns.Dispose();

    private (int Code, string Output, string Error) Run(params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Lvsctl.Program.Run([.. arguments, "--backend", "nftables", "--netns", _ns.Name], output, error);
        return (code, output.ToString().ReplaceLineEndings("\n"), error.ToString());
    }

    [Fact]
    public void List_prints_the_ipvsadm_Ln_layout()
    {
        var (code, output, error) = Run("ipvs", "list");

        Assert.True(code == 0, error);
        Assert.Equal("""
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            TCP  10.0.0.1:80 wrr
              -> 10.1.0.1:80                  Masq    3      -          -
              -> 10.1.0.2:80                  Masq    0      -          -
            UDP  10.0.0.2:53 sh persistent 300 mask 255.255.255.0
              -> 10.1.0.3:53                  Masq    1      -          -

            """.ReplaceLineEndings("\n"), string.Join('\n', output[(output.IndexOf('\n') + 1)..].Split('\n').Select(l => l.TrimEnd())));
    }

    [Fact]
    public void Stats_and_save_read_the_same_table()
    {
        var (code, stats, _) = Run("ipvs", "list", "--stats");
        Assert.Equal(0, code);
        Assert.Contains("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes", stats);
        // ipvsadm: "%-33s" then "%9llu" per counter; nftables counts new connections per service only.
        Assert.Contains("TCP  10.0.0.1:80" + new string(' ', 17) + "        0        -        -        -        -\n", stats);
        Assert.Contains("  -> 10.1.0.1:80" + new string(' ', 17) + "        -        -        -        -        -\n", stats);

        var (saveCode, save, _) = Run("ipvs", "save");
        Assert.Equal(0, saveCode);
        Assert.Equal("""
            -A -t 10.0.0.1:80 -s wrr
            -a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 3
            -a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 0
            -A -u 10.0.0.2:53 -s sh -p 300 -M 255.255.255.0
            -a -u 10.0.0.2:53 -r 10.1.0.3:53 -m -w 1

            """.ReplaceLineEndings("\n"), save);
    }

    [Fact]
    public void Bad_arguments_print_usage()
    {
        var error = new StringWriter();
        Assert.Equal(2, Lvsctl.Program.Run(["ipvs", "list", "--stats", "--rate"], TextWriter.Null, error));
        Assert.Contains("usage: lvsctl ipvs list [--stats|--rate]", error.ToString());
        Assert.Equal(1, Lvsctl.Program.Run(["ipvs", "save", "--backend", "ipvs"], TextWriter.Null, error));
        Assert.Contains("--backend ipvs: this kernel has no IPVS", error.ToString());
    }
}
