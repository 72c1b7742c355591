using LvsEvents.Contracts;

namespace LvsEvents.Replay.Tests;

/// <summary>The postmortem HTML of the failover scenario in a real headless browser.</summary>
[Collection(FailoverCollection.Name)]
public sealed class HtmlReportTests(FailoverScenario scenario)
{
    private static string OutputDirectory => Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "replay-output")).FullName;

    [Fact(Timeout = 90_000)]
    public async Task The_html_report_is_self_contained_and_renders_in_chromium_without_console_errors()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var projection = scenario.Store.Projection(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        var report = await new PostmortemBuilder(projection).BuildAsync(scenario.BeforeKill - TimeSpan.FromSeconds(2), scenario.End, cancel.Token);
        var html = ReportHtml.Render(report);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=\"http", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=\"http", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(report.Lanes, l => l.Kind == "node" && l.Name.StartsWith(scenario.A, StringComparison.Ordinal));
        Assert.Contains(report.Lanes, l => l.Kind == "node" && l.Name.StartsWith(scenario.B, StringComparison.Ordinal));
        Assert.Contains(report.Lanes, l => l.Kind == "real-server" && l.Name == FailoverScenario.Server.ToString() && l.Segments.Any(s => s.State == "Down"));
        Assert.Contains(report.Markers, m => m.Kind == "alert");
        Assert.Contains(report.Markers, m => m.Kind == "config");

        var file = Path.Combine(OutputDirectory, "postmortem.html");
        var png = Path.Combine(OutputDirectory, "postmortem.png");
        File.Delete(png);
        await File.WriteAllTextAsync(file, html, cancel.Token);
        var (exit, log) = await Chromium.ScreenshotAsync(file, png, TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"chromium exited {exit}:\n{log}");
        Assert.Empty(Chromium.ConsoleLines(log));
        Assert.True(File.Exists(png), $"no screenshot:\n{log}");
        var screenshot = await File.ReadAllBytesAsync(png, cancel.Token);
        // The lanes are drawn: Master/Up green, Backup blue-grey, Down red, Lost orange, all as rectangles of many pixels.
        Assert.True(Png.Count(screenshot, (0x2e, 0x9d, 0x4f)) > 2000, "no green (Master/Up) lane segments in the screenshot");
        Assert.True(Png.Count(screenshot, (0x7a, 0x93, 0xb8)) > 500, "no Backup lane segment in the screenshot");
        Assert.True(Png.Count(screenshot, (0xd6, 0x45, 0x41)) > 200, "no Down lane segment in the screenshot");
        Assert.True(Png.Count(screenshot, (0xf3, 0x9c, 0x12)) > 200, "no Lost lane segment in the screenshot");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_console_check_sees_an_error_when_a_page_has_one()
    {
        var file = Path.Combine(OutputDirectory, "broken.html");
        var png = Path.Combine(OutputDirectory, "broken.png");
        await File.WriteAllTextAsync(file, "<!DOCTYPE html><html><body><p>x</p><script>console.error('replay-test-error'); undefinedFunction();</script></body></html>");
        var (_, log) = await Chromium.ScreenshotAsync(file, png, TimeSpan.FromSeconds(45));
        Assert.Contains(Chromium.ConsoleLines(log), l => l.Contains("replay-test-error", StringComparison.Ordinal));
    }
}
