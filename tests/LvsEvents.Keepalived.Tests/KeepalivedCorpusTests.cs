using System.Diagnostics;
using Xunit;

namespace LvsEvents.Keepalived.Tests;

/// <summary>
/// Every corpus file is checked by us and by the real <c>keepalived --config-test</c> (2.2.7). keepalived's check
/// fails on anything it logs, warnings included, so it is compared with our strict verdict (no errors and no
/// warnings). Each file states both verdicts in its header; a file where they differ must say why
/// (<c># divergence:</c>), and the test fails if the stated divergence stops being true.
/// </summary>
public sealed class KeepalivedCorpusTests
{
    private const string Keepalived = "/usr/sbin/keepalived";
    private const string ConfigId = "lb1";

    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestFiles.CorpusDirectory, "*.conf").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void Corpus_has_valid_and_invalid_files()
    {
        var headers = Directory.GetFiles(TestFiles.CorpusDirectory, "*.conf").Select(f => Header(f, "corpus")).ToList();
        Assert.True(headers.Count(h => h == "valid") >= 5);
        Assert.True(headers.Count(h => h == "invalid") >= 10);
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Our_checker_and_keepalived_agree(string name)
    {
        Assert.True(File.Exists(Keepalived), $"{Keepalived} is missing: install keepalived 2.2.7 (./test.sh does: apt-get install keepalived)");
        var directory = PrepareCorpusCopy();
        var file = Path.Combine(directory, name);

        var ours = ConfigurationParser.ParseFile(file, new ParserOptions { ConfigId = ConfigId });
        Assert.DoesNotContain(ours.Diagnostics, d => d.Message.StartsWith(ConfigurationParser.InternalErrorPrefix, StringComparison.Ordinal));
        var expectedOurs = Header(file, "corpus");
        Assert.True(expectedOurs == (ours.HasErrors ? "invalid" : "valid"),
            $"{name}: expected {expectedOurs}, got:\n{string.Join('\n', ours.Diagnostics)}");

        var (exitCode, log) = RunKeepalived(file);
        var keepalivedAccepts = exitCode == 0;
        var expectedKeepalived = Header(file, "keepalived");
        Assert.True(expectedKeepalived == (keepalivedAccepts ? "accepts" : "rejects"),
            $"{name}: header says keepalived {expectedKeepalived}, but it exited {exitCode}:\n{log}");

        var oursStrictAccepts = ours.Diagnostics.Count == 0;
        var divergence = Header(file, "divergence");
        if (divergence is null)
        {
            Assert.True(keepalivedAccepts == oursStrictAccepts,
                $"{name}: keepalived exit {exitCode} but ours (strict) {(oursStrictAccepts ? "accepts" : "rejects")}.\nkeepalived:\n{log}\nours:\n{string.Join('\n', ours.Diagnostics)}");
        }
        else
        {
            Assert.True(keepalivedAccepts != oursStrictAccepts, $"{name}: documents a divergence ({divergence}) that no longer exists");
        }
    }

    private static (int ExitCode, string Log) RunKeepalived(string file)
    {
        var start = new ProcessStartInfo(Keepalived)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--config-test", "--config-id", ConfigId, "-f", file })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(20_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"keepalived --config-test did not finish in 20 s on {file}");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string? Header(string file, string key) =>
        File.ReadLines(file)
            .TakeWhile(l => l.StartsWith('#'))
            .Select(l => l.TrimStart('#', ' '))
            .Where(l => l.StartsWith(key + ":", StringComparison.Ordinal))
            .Select(l => l[(key.Length + 1)..].Trim())
            .FirstOrDefault();

    private static readonly Lazy<string> CorpusCopy = new(CopyCorpus);

    private static string PrepareCorpusCopy() => CorpusCopy.Value;

    /// <summary>
    /// keepalived refuses a vrrp_instance on an interface that does not exist. The corpus is written for eth0; on a
    /// machine without one, a copy with eth0 replaced by the first non-loopback interface is checked instead.
    /// </summary>
    private static string CopyCorpus()
    {
        if (Directory.Exists("/sys/class/net/eth0"))
        {
            return TestFiles.CorpusDirectory;
        }

        var replacement = Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName).FirstOrDefault(n => n != "lo")
            ?? throw new InvalidOperationException("no network interface other than lo; the corpus needs one for vrrp_instance");
        var target = Directory.CreateTempSubdirectory("keepalived-corpus-").FullName;
        foreach (var source in Directory.GetFiles(TestFiles.CorpusDirectory, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(TestFiles.CorpusDirectory, source));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.WriteAllText(destination, File.ReadAllText(source).Replace("eth0", replacement));
        }

        return target;
    }
}
