using System.Diagnostics;

namespace LvsEvents.Replay.Tests;

/// <summary>Debian's headless chromium: opens a file, saves a screenshot, returns what it logged (console messages included).</summary>
public static class Chromium
{
    public static async Task<(int ExitCode, string Log)> ScreenshotAsync(string html, string png, TimeSpan timeout)
    {
        var binary = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("chromium is not installed: apt-get install -y chromium");
        var profile = Directory.CreateTempSubdirectory("replay-chromium-");
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var argument in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", $"--user-data-dir={profile.FullName}",
            "--window-size=1400,1100", "--enable-logging=stderr", "--v=0", $"--screenshot={png}", new Uri(html).AbsoluteUri,
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        try
        {
            using var cancel = new CancellationTokenSource(timeout);
            await process.WaitForExitAsync(cancel.Token);
            return (process.ExitCode, await error + await output);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            profile.Delete(recursive: true);
        }
    }

    /// <summary>Console messages and page errors as chromium logs them with --enable-logging=stderr.</summary>
    public static IReadOnlyList<string> ConsoleLines(string log) =>
        log.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal) || l.Contains("Uncaught", StringComparison.Ordinal)).ToList();
}
