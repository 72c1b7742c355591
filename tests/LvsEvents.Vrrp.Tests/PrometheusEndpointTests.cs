using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace LvsEvents.Vrrp.Tests;

/// <summary>lvs-vrrp's /metrics (keepalived #1731): the advert counters under the InfluxDB names, plus the spool depth.</summary>
public sealed class PrometheusEndpointTests : IAsyncLifetime
{
    private readonly VrrpLab _lab = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    [Fact(Timeout = 60_000)]
    public async Task Metrics_show_the_advert_counters_and_the_spool()
    {
        var a = _lab.AddNode("a", 1);
        var port = FreePort();
        var node = await _lab.StartOursAsync(a, _lab.Settings(a, 150, master: true), $"--Metrics:PrometheusPort={port}");
        await VrrpLab.WaitForVipAsync(node, TimeSpan.FromSeconds(10), "master");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string text = "";
        var sent = 0.0;
        var seen = await Poll.Until(() =>
        {
            try
            {
                text = http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult();
            }
            catch (HttpRequestException)
            {
                return false;
            }
            var match = Regex.Match(text, $@"^vrrp_adverts_sent\{{node=""{node.NodeId}"",instance=""VI_1"",vrid=""51""\}} (\d+)", RegexOptions.Multiline);
            return match.Success && (sent = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)) >= 2;
        }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(500));
        Assert.True(seen is not null, $"no advert counter in /metrics:\n{text}\n{node.OutputText}");
        Assert.Matches($@"(?m)^vrrp_adverts_master\{{node=""{node.NodeId}"",instance=""VI_1"",vrid=""51""\}} 1$", text);
        Assert.Matches($@"(?m)^spool_depth\{{node=""{node.NodeId}"",service=""vrrp""\}} \d+$", text);
        Assert.DoesNotContain("s3cret", text);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
