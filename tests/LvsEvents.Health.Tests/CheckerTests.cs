using System.Net;
using System.Security.Cryptography;
using System.Text;
using LvsEvents.Contracts;
using LvsEvents.Health.Checking;

namespace LvsEvents.Health.Tests;

/// <summary>Each checker against real servers on loopback addresses started by the test.</summary>
public class CheckerTests
{
    // Generous: the machine running the tests may be loaded; the timeout tests set their own.
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(3);
    private static readonly CancellationToken None = CancellationToken.None;

    private static ProbeTarget At(IPEndPoint endpoint, TimeSpan? timeout = null) => new(endpoint, null, null, timeout ?? Limit);

    private static HttpUrlCheck Url(string path = "/", string codes = "200-299", string? digest = null, string? host = null) =>
        new(path, new StatusCodeSet([codes]), digest, host, null, false);

    [Fact]
    public async Task Tcp_check_is_up_on_a_listener_and_refused_on_a_closed_port()
    {
        await using var server = new HangingTcpServer();
        Assert.True((await new TcpProbe(At(server.Endpoint)).ProbeAsync(None)).Success);
        // Reset after the SYN-ACK, before the handshake completes: the application never sees the check.
        await Task.Delay(200);
        Assert.Equal(0, server.Connections);

        var refused = await new TcpProbe(At(Loopback.ClosedTcpPort())).ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.Refused), (refused.Success, refused.Error));
    }

    [Fact]
    public async Task Tcp_check_binds_to_bindto()
    {
        await using var server = new HangingTcpServer();
        var source = Loopback.NewAddress();
        Assert.True((await new TcpProbe(new ProbeTarget(server.Endpoint, source, null, Limit)).ProbeAsync(None)).Success);
    }

    [Fact]
    public async Task Http_get_checks_status_codes_and_ranges()
    {
        await using var server = new TestHttpServer();
        var target = At(server.Endpoint);
        Assert.True((await new HttpProbe(target, [Url()], false, null, "1.0").ProbeAsync(None)).Success);

        server.Status = 503;
        var bad = await new HttpProbe(target, [Url()], false, null, "1.0").ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.BadStatus), (bad.Success, bad.Error));
        Assert.Contains("503", bad.Detail, StringComparison.Ordinal);
        Assert.True((await new HttpProbe(target, [Url(codes: "500-503")], false, null, "1.0").ProbeAsync(None)).Success);
        Assert.False((await new HttpProbe(target, [Url(codes: "500-502")], false, null, "1.0").ProbeAsync(None)).Success);
    }

    [Fact]
    public async Task Http_get_compares_the_md5_of_the_body_as_genhash_prints_it()
    {
        await using var server = new TestHttpServer { Body = "<html>healthy</html>\n" };
        var digest = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(server.Body)));
        Assert.True((await new HttpProbe(At(server.Endpoint), [Url(digest: digest)], false, null, "1.0").ProbeAsync(None)).Success);

        server.Body = "<html>something else</html>\n";
        var mismatch = await new HttpProbe(At(server.Endpoint), [Url(digest: digest)], false, null, "1.0").ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.DigestMismatch), (mismatch.Success, mismatch.Error));
    }

    [Fact]
    public async Task Http_get_sends_keepalived_s_request_with_the_virtualhost()
    {
        await using var server = new TestHttpServer();
        await new HttpProbe(At(server.Endpoint), [Url("/health?x=1", host: "www.example.com")], false, null, "1.0").ProbeAsync(None);
        Assert.StartsWith("GET /health?x=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\n", server.LastRequest, StringComparison.Ordinal);
        Assert.Contains($"Host: www.example.com:{server.Endpoint.Port}\r\n", server.LastRequest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_get_needs_every_url_to_pass()
    {
        await using var server = new TestHttpServer();
        var probe = new HttpProbe(At(server.Endpoint), [Url("/a"), Url("/b", codes: "404")], false, null, "1.0");
        Assert.False((await probe.ProbeAsync(None)).Success);
    }

    [Fact]
    public async Task Http_get_times_out_on_a_server_that_accepts_then_hangs()
    {
        await using var server = new HangingTcpServer();
        var started = DateTime.UtcNow;
        var outcome = await new HttpProbe(At(server.Endpoint, TimeSpan.FromMilliseconds(300)), [Url()], false, null, "1.0").ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.Timeout), (outcome.Success, outcome.Error));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Ssl_get_speaks_tls_and_reports_a_tls_error_against_a_clear_text_server()
    {
        using var certificate = TestHttpServer.SelfSignedCertificate();
        await using var tls = new TestHttpServer(certificate) { Body = "secure" };
        var digest = Convert.ToHexStringLower(MD5.HashData("secure"u8));
        Assert.True((await new HttpProbe(At(tls.Endpoint), [Url(digest: digest)], true, null, "1.0").ProbeAsync(None)).Success);

        // A peer that speaks first in clear text (an SMTP greeting) is not a TLS server.
        await using var plain = new TestSmtpServer();
        var outcome = await new HttpProbe(At(plain.Endpoint), [Url()], true, null, "1.0").ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.TlsError), (outcome.Success, outcome.Error));
    }

    [Fact]
    public async Task Misc_check_exit_codes_with_and_without_misc_dynamic()
    {
        Assert.True((await new MiscProbe("exit 0", Limit * 4, dynamic: false).ProbeAsync(None)).Success);
        var failed = await new MiscProbe("exit 1", Limit * 4, dynamic: true).ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.ScriptFailed), (failed.Success, failed.Error));
        var plain = await new MiscProbe("exit 7", Limit * 4, dynamic: false).ProbeAsync(None);
        Assert.False(plain.Success);

        var dynamic = await new MiscProbe("exit 7", Limit * 4, dynamic: true).ProbeAsync(None);
        Assert.Equal((true, (int?)5), (dynamic.Success, dynamic.DynamicWeight));
    }

    [Fact]
    public async Task Misc_check_kills_a_script_that_outlives_misc_timeout()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"lvs-health-{Guid.NewGuid():N}");
        var outcome = await new MiscProbe($"sleep 5; touch {marker}", TimeSpan.FromMilliseconds(300), dynamic: false).ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.ScriptTimeout), (outcome.Success, outcome.Error));
        await Task.Delay(100);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Udp_check_with_require_reply_against_an_echo_and_a_closed_port()
    {
        await using var echo = new UdpEchoServer();
        var payload = "ping"u8.ToArray();
        Assert.True((await new UdpProbe(At(echo.Endpoint), payload, true, "pi"u8.ToArray(), 1, 255).ProbeAsync(None)).Success);
        Assert.False((await new UdpProbe(At(echo.Endpoint), payload, true, "xx"u8.ToArray(), 1, 255).ProbeAsync(None)).Success);

        var closed = await new UdpProbe(At(Loopback.ClosedUdpPort()), payload, false, null, 0, 255).ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.Refused), (closed.Success, closed.Error));
    }

    [Fact]
    public async Task Dns_check_against_dnsmasq()
    {
        using var dns = await Dnsmasq.StartAsync("service.lvs.test", IPAddress.Parse("192.0.2.10"));
        Assert.True((await new DnsProbe(At(dns.Endpoint), "A", "service.lvs.test").ProbeAsync(None)).Success);

        var missing = await new DnsProbe(At(dns.Endpoint), "A", "nothing.example.invalid").ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.BadStatus), (missing.Success, missing.Error));
    }

    [Fact]
    public async Task Ping_check_gets_an_echo_from_loopback()
    {
        Assert.True((await new PingProbe(At(new IPEndPoint(Loopback.NewAddress(), 0))).ProbeAsync(None)).Success);
    }

    [Fact]
    public async Task Smtp_check_greeting_and_helo()
    {
        await using var smtp = new TestSmtpServer();
        Assert.True((await new SmtpProbe(At(smtp.Endpoint), "director.example").ProbeAsync(None)).Success);
        Assert.Equal("director.example", smtp.LastHelo);

        smtp.Greeting = 554;
        var refused = await new SmtpProbe(At(smtp.Endpoint), "director.example").ProbeAsync(None);
        Assert.Equal((false, ProbeErrorClass.BadStatus), (refused.Success, refused.Error));
    }

    [Fact]
    public void Status_codes_take_lists_and_ranges()
    {
        var codes = new StatusCodeSet(["200", "301-302"]);
        Assert.True(codes.Contains(200) && codes.Contains(302));
        Assert.False(codes.Contains(201) || codes.Contains(303));
        Assert.True(new StatusCodeSet([]).Contains(204));
    }
}
