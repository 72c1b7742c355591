using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Reconciliation;
using LvsEvents.Keepalived;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// <c>lvs-ipvs-writer-bench ipvs-check</c>: the writer's IPVS path on a real IPVS kernel (run it in the qemu guest:
/// <c>tests/ipvs-vm/ipvs-vm.sh run -- dotnet …/lvs-ipvs-writer-bench.dll ipvs-check</c>), with ipvsadm as the
/// witness. Prints one line per check and exits 1 if any failed.
/// </summary>
internal static class IpvsCheck
{
    private const string Configuration = """
        virtual_server 10.0.0.1 80 {
            lb_algo wrr
            lb_kind NAT
            protocol TCP
            persistence_timeout 300
            persistence_granularity 255.255.255.0
            real_server 10.1.0.1 8080 {
                weight 3
            }
            real_server 10.1.0.2 8080 {
                weight 2
                inhibit_on_failure
            }
        }
        virtual_server 10.0.0.2 53 {
            lb_algo rr
            lb_kind DR
            protocol UDP
            real_server 10.1.0.3 53 {
                weight 1
            }
        }
        virtual_server fwmark 5 {
            lb_algo sh
            lb_kind TUN
            real_server 10.1.0.4 {
                weight 4
            }
        }
        """;

    public static async Task<int> RunAsync()
    {
        var failures = 0;
        void Check(string name, bool ok, string detail = "")
        {
            Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {name}{(ok || detail.Length == 0 ? "" : $"\n{detail}")}");
            failures += ok ? 0 : 1;
        }

        var emitter = new RecordingEmitter();
        var log = new CapturingLogger();
        using var backend = BackendSelector.Create("auto", log);
        Check("auto picks ipvs on an IPVS kernel and says so", backend.Name == "ipvs" && log.Lines.Any(l => l.StartsWith("Backend: ipvs", StringComparison.Ordinal)), string.Join('\n', log.Lines));
        var config = ConfigurationParser.ParseText(Configuration).Configuration;
        using var reconciler = new Reconciler(backend, emitter, config, TimeProvider.System, NullLogger<Reconciler>.Instance);

        await reconciler.ResyncAsync(default);
        var want = string.Join('\n', reconciler.Applied!.SaveLines().Order(StringComparer.Ordinal));
        Check("resync writes the configured table (ipvsadm -S -n agrees)", Save() == want, $"ipvsadm:\n{Save()}\nwant:\n{want}");

        Run("ipvsadm", "-e -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 9");
        Run("ipvsadm", "-A -t 10.9.9.9:80 -s rr");
        await reconciler.ResyncAsync(default);
        var drift = emitter.Events.OfType<KernelDriftCorrected>().LastOrDefault();
        Check("drift made with ipvsadm is reported", drift is not null
            && drift.Differences.Contains("differs: -a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 9 (want -a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 3)")
            && drift.Differences.Contains("unexpected: -A -t 10.9.9.9:80 -s rr"), string.Join('\n', drift?.Differences ?? []));
        Check("drift made with ipvsadm is undone", Save() == want, Save());

        var down = new RealServerHealthChanged
        {
            EventId = Guid.CreateVersion7(), RealServer = RealServerRef.Parse("TCP/10.0.0.1:80->10.1.0.2:8080"), From = HealthState.Up, To = HealthState.Down, Checker = "TCP_CHECK",
        };
        await reconciler.HandleAsync(down, default);
        Check("a server down under inhibit_on_failure stays with weight 0", Save().Contains("-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -m -w 0", StringComparison.Ordinal), Save());
        var applied = emitter.Events.OfType<KernelRuleApplied>().LastOrDefault();
        Check("kernel.rule-applied carries before/after and the causing event", applied is { Before: "-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -m -w 2", After: "-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -m -w 0" }
            && applied.CausationId == down.EventId, $"{applied}");

        var drain = new DrainCommand { EventId = Guid.CreateVersion7(), RealServer = RealServerRef.Parse("TCP/10.0.0.1:80->10.1.0.1:8080"), Timeout = TimeSpan.FromHours(1), RequestedBy = "check" };
        await reconciler.HandleAsync(drain, default);
        Check("drain sets weight 0", Save().Contains("-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 0", StringComparison.Ordinal), Save());
        var finished = await reconciler.TickAsync(default);
        Check("a drained server with no connections (counted by IPVS) is deleted before its timeout", finished.Count == 1 && !Save().Contains("10.1.0.1:8080", StringComparison.Ordinal), Save());

        var listing = Lvsctl("ipvs list");
        Check("lvsctl ipvs list prints what ipvsadm -Ln prints", listing == Run("ipvsadm", "-Ln"), $"lvsctl:\n{listing}\nipvsadm:\n{Run("ipvsadm", "-Ln")}");
        var stats = Lvsctl("ipvs list --stats");
        Check("lvsctl ipvs list --stats prints what ipvsadm -Ln --stats prints", stats == Run("ipvsadm", "-Ln --stats"), $"lvsctl:\n{stats}\nipvsadm:\n{Run("ipvsadm", "-Ln --stats")}");
        Check("lvsctl ipvs save prints what ipvsadm -S -n prints", Lvsctl("ipvs save") == Run("ipvsadm", "-S -n"), $"lvsctl:\n{Lvsctl("ipvs save")}\nipvsadm:\n{Run("ipvsadm", "-S -n")}");

        Console.WriteLine(failures == 0 ? "ALL PASSED" : $"{failures} FAILED");
        return failures == 0 ? 0 : 1;
    }

    private static string Save() => string.Join('\n', Run("ipvsadm", "-S -n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

    private static string Lvsctl(string arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = LvsEvents.Lvsctl.Program.Run(arguments.Split(' '), output, error);
        return code == 0 ? output.ToString() : $"exit {code}: {error}";
    }

    private static string Run(string file, string arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(true);
            throw new TimeoutException($"`{file} {arguments}` timed out");
        }

        return process.ExitCode == 0 ? stdout.Result : throw new InvalidOperationException($"`{file} {arguments}` failed: {stderr.Result}");
    }

    private sealed class RecordingEmitter : IEventEmitter
    {
        public List<LvsEvent> Events { get; } = [];

        public ValueTask<LvsEvent> EmitAsync(LvsEvent e, CancellationToken cancellationToken = default)
        {
            lock (Events)
            {
                Events.Add(e);
            }

            return ValueTask.FromResult(e);
        }
    }

    private sealed class CapturingLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
