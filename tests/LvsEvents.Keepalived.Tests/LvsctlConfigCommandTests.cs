using LvsEvents.Lvsctl;
using Xunit;

namespace LvsEvents.Keepalived.Tests;

/// <summary>lvsctl config check/show through the same entry point as the executable.</summary>
public sealed class LvsctlConfigCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Check_of_the_article_is_valid_with_a_one_line_summary()
    {
        var (exit, output, error) = Run("config", "check", TestFiles.TestData("article-master.conf"));
        Assert.Equal(0, exit);
        Assert.Equal("article-master.conf: valid — 1 vrrp_instance, 1 virtual_server, 3 real_servers, 1 vrrp_script (2 warnings)\n", output);
        Assert.Equal(2, error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains(":28:5: warning: auth_pass is 14 characters", error);
    }

    [Fact]
    public void Strict_check_fails_on_warnings_like_keepalived()
    {
        var (exit, _, error) = Run("config", "check", "--strict", TestFiles.TestData("article-master.conf"));
        Assert.Equal(1, exit);
        Assert.EndsWith("article-master.conf: invalid — 0 errors, 2 warnings\n", error);
    }

    [Fact]
    public void Check_of_an_invalid_file_lists_every_error_one_per_line_and_exits_1()
    {
        var file = Path.Combine(TestFiles.CorpusDirectory, "invalid-vrid-out-of-range.conf");
        var (exit, output, error) = Run("config", "check", file);
        Assert.Equal(1, exit);
        Assert.Empty(output);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"{file}:6:23: error: virtual_router_id: 256 is outside 1..255", lines);
        Assert.Contains($"{file}:3:1: error: vrrp_instance VI_1 has no virtual_router_id (1..255)", lines);
        Assert.Equal("invalid-vrid-out-of-range.conf: invalid — 2 errors, 0 warnings", lines[^1]);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void Missing_file_is_a_located_error_not_a_stack_trace()
    {
        var (exit, _, error) = Run("config", "check", "/nonexistent/keepalived.conf");
        Assert.Equal(1, exit);
        Assert.StartsWith("/nonexistent/keepalived.conf:1:1: error: cannot read", error);
    }

    [Fact]
    public void Show_redacts_secrets_in_text_and_json()
    {
        var file = TestFiles.TestData("article-master.conf");
        var (exit, text, _) = Run("config", "show", file);
        Assert.Equal(0, exit);
        Assert.DoesNotContain("StrongP@ss2024", text);
        Assert.Contains("password ***", text);
        Assert.Contains("virtual_server 192.168.1.100:80/TCP {", text);

        var (jsonExit, json, _) = Run("config", "show", file, "--json");
        Assert.Equal(0, jsonExit);
        Assert.DoesNotContain("StrongP@ss2024", json);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var instance = document.RootElement.GetProperty("vrrp_instances")[0];
        Assert.Equal("***", instance.GetProperty("authentication").GetProperty("password").GetString());
        Assert.Equal(51, instance.GetProperty("virtual_router_id").GetInt32());
        var checker = document.RootElement.GetProperty("virtual_servers")[0].GetProperty("real_servers")[2].GetProperty("checkers")[0];
        Assert.Equal("HTTP_GET", checker.GetProperty("checker").GetString());
    }

    [Fact]
    public void Show_applies_includes_conditionals_and_macros()
    {
        var file = Path.Combine(TestFiles.CorpusDirectory, "valid-macros.conf");
        var (exit, json, _) = Run("config", "show", file, "--json", "--config-id", "lb1");
        Assert.Equal(0, exit);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(150, document.RootElement.GetProperty("vrrp_instances")[0].GetProperty("priority").GetInt32());
        Assert.Equal(5, document.RootElement.GetProperty("virtual_servers")[0].GetProperty("real_servers").GetArrayLength());
    }

    [Theory]
    [InlineData]
    [InlineData("bogus")]
    [InlineData("config")]
    [InlineData("config", "frob")]
    [InlineData("config", "check")]
    [InlineData("config", "check", "a.conf", "b.conf")]
    [InlineData("config", "check", "a.conf", "--json")]
    [InlineData("config", "show", "a.conf", "--bogus")]
    [InlineData("config", "bench", "--real-servers", "lots")]
    public void Unknown_arguments_print_usage_and_exit_2(params string[] args)
    {
        var (exit, output, error) = Run(args);
        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.StartsWith("usage: lvsctl config check FILE", error);
    }
}
