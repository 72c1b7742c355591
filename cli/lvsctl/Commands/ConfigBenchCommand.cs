using System.Diagnostics;
using System.Globalization;
using System.Text;
using LvsEvents.Keepalived;

namespace LvsEvents.Lvsctl.Commands;

/// <summary>
/// <c>lvsctl config bench --real-servers N</c>: generates a configuration with N real servers (100 per virtual
/// server, each with a TCP_CHECK), parses it 5 times, and times <c>keepalived --config-test</c> on the same file.
/// </summary>
public static class KeepalivedParserBenchmark
{
    private const int Runs = 5;
    private const string KeepalivedPath = "/usr/sbin/keepalived";

    public static int Run(int realServers, TextWriter? output = null)
    {
        output ??= Console.Out;
        var directory = Directory.CreateTempSubdirectory("lvsctl-bench-");
        try
        {
            var file = Path.Combine(directory.FullName, "keepalived.conf");
            File.WriteAllText(file, Generate(realServers));
            output.WriteLine($"file: {file} ({new FileInfo(file).Length / 1024} KiB, {realServers} real_servers)");

            // One warm-up parse so the JIT is not measured.
            var check = ConfigurationParser.ParseFile(file);
            if (check.Diagnostics.Count > 0 || check.Configuration.RealServerCount != realServers)
            {
                output.WriteLine($"generated file did not parse cleanly: {check.Diagnostics.FirstOrDefault()}");
                return 1;
            }

            var ours = new List<double>();
            for (var i = 0; i < Runs; i++)
            {
                var watch = Stopwatch.StartNew();
                ConfigurationParser.ParseFile(file);
                ours.Add(watch.Elapsed.TotalMilliseconds);
            }

            output.WriteLine($"lvsctl parser: min {Format(ours.Min())} ms, median {Format(Median(ours))} ms ({Runs} runs)");

            if (!File.Exists(KeepalivedPath))
            {
                output.WriteLine($"keepalived: {KeepalivedPath} not found; no comparison");
                return 0;
            }

            var theirs = new List<double>();
            for (var i = 0; i < Runs; i++)
            {
                var (elapsed, exitCode) = TimeKeepalived(file);
                if (exitCode != 0)
                {
                    output.WriteLine($"keepalived --config-test exited {exitCode} on the generated file");
                }

                theirs.Add(elapsed);
            }

            output.WriteLine($"keepalived --config-test: min {Format(theirs.Min())} ms, median {Format(Median(theirs))} ms ({Runs} runs, includes process start)");
            output.WriteLine($"ratio ours/keepalived (median): {(Median(ours) / Median(theirs)).ToString("0.00", CultureInfo.InvariantCulture)}");
            return 0;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    public static string Generate(int realServers)
    {
        var text = new StringBuilder();
        text.Append("""
            global_defs {
                router_id BENCH
            }

            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id 51
                priority 100
                advert_int 1
                virtual_ipaddress {
                    10.255.0.1/24
                }
            }

            """);
        const int perVirtualServer = 100;
        var virtualServers = (realServers + perVirtualServer - 1) / perVirtualServer;
        var written = 0;
        for (var v = 0; v < virtualServers; v++)
        {
            text.Append(CultureInfo.InvariantCulture, $"virtual_server 10.254.{v / 250}.{v % 250 + 1} 80 {{\n")
                .Append("    delay_loop 6\n    lb_algo wrr\n    lb_kind DR\n    protocol TCP\n");
            for (var r = 0; r < perVirtualServer && written < realServers; r++, written++)
            {
                text.Append(CultureInfo.InvariantCulture, $"    real_server 10.{1 + written / 62500}.{written / 250 % 250}.{written % 250 + 1} 80 {{\n")
                    .Append("        weight 1\n        TCP_CHECK {\n            connect_timeout 3\n            retry 3\n            delay_before_retry 3\n        }\n    }\n");
            }

            text.Append("}\n");
        }

        return text.ToString();
    }

    private static (double ElapsedMs, int ExitCode) TimeKeepalived(string file)
    {
        var start = new ProcessStartInfo(KeepalivedPath)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--config-test");
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add(file);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        watch.Stop();
        _ = stdout.Result + stderr.Result;
        return (watch.Elapsed.TotalMilliseconds, process.ExitCode);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Format(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture);
}
