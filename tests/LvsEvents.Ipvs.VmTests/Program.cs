using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LvsEvents.Ipvs;
using LvsEvents.Ipvs.VmTests;

// Checks LvsEvents.Ipvs against a real IPVS kernel (run inside tests/ipvs-vm, as root, with ipvsadm on PATH).
//   LvsEvents.Ipvs.VmTests            all checks; prints PASS/FAIL lines and "vm-tests: N passed, M failed"
//   LvsEvents.Ipvs.VmTests bench [S] [D]   full sync of S services x D destinations: ours vs ipvsadm-restore
// Exit code 0 only if every check passed.
var started = Stopwatch.StartNew();
if (args.Length > 0 && args[0] == "bench-apply")
{
    return Bench.ApplyOnce(int.Parse(args[1]), int.Parse(args[2]));
}
if (args.Length > 0 && args[0] == "bench")
{
    return Bench.Run(args.Length > 1 ? int.Parse(args[1]) : 100, args.Length > 2 ? int.Parse(args[2]) : 100);
}
var checks = new Checks();
checks.RunAll();
Console.WriteLine($"vm-tests: {checks.Passed} passed, {checks.Failed} failed ({started.Elapsed.TotalSeconds:F1} s in the guest)");
return checks.Failed == 0 ? 0 : 1;

internal sealed class Checks
{
    public int Passed;
    public int Failed;
    private IpvsClient? _client;
    private IpvsClient Client => _client ?? throw new CheckFailed("no IPVS client (an earlier check failed)");

    private static IPAddress Ip(string text) => IPAddress.Parse(text);

    // The table written by our code; the same shapes as the ipvsadm commands in docs/ipvs-vm.md.
    private static readonly IpvsService Web = IpvsService.Tcp(Ip("10.0.0.1"), 80, "wrr").WithPersistence(300, IpvsService.Ipv4Netmask(24));
    private static readonly IpvsService Dns = IpvsService.Udp(Ip("10.0.0.1"), 53, "rr") with { Flags = IpvsServiceFlags.OnePacket };
    private static readonly IpvsService Mark7 = IpvsService.Fwmark(7, scheduler: "sh") with { Flags = IpvsServiceFlags.Scheduler1 | IpvsServiceFlags.Scheduler2 };
    private static readonly IpvsService Mark8 = IpvsService.Fwmark(8, IpvsAddressFamily.IPv6, "lc");
    private static readonly IpvsService Web6 = IpvsService.Tcp(Ip("2001:db8::1"), 443, "mh").WithPersistence(60, 64);
    private static readonly IpvsService Sctp = IpvsService.Sctp(Ip("10.0.0.2"), 9, "wlc");
    private static readonly IpvsService Sip = IpvsService.Tcp(Ip("10.0.0.3"), 80, "sed").WithPersistence(100) with { PersistenceEngine = "sip" };
    private static readonly IpvsService Tunnels = IpvsService.Tcp(Ip("10.0.0.4"), 80, "rr").WithPersistence(360);
    // One-packet scheduling: the kernel takes it for TCP too, but ipvsadm(-restore) refuses it outside UDP.
    private static readonly IpvsService Mixed = IpvsService.Udp(Ip("10.0.0.5"), 80, "sh").WithPersistence(30) with
    {
        Flags = IpvsServiceFlags.Persistent | IpvsServiceFlags.Scheduler1 | IpvsServiceFlags.OnePacket,
    };

    private static readonly IReadOnlyList<IpvsTableEntry> Desired =
    [
        new(Web, [
            new IpvsDestination { Address = Ip("10.0.1.2"), Port = 8080, ForwardMethod = IpvsForwardMethod.Masquerade, Weight = 3, UpperThreshold = 100, LowerThreshold = 10 },
            new IpvsDestination { Address = Ip("10.0.1.3"), Port = 80, Weight = 0 },
            new IpvsDestination { Address = Ip("10.0.1.4"), Port = 80, ForwardMethod = IpvsForwardMethod.Tunnel, Weight = 2 },
        ]),
        new(Dns, [new IpvsDestination { Address = Ip("10.0.1.5"), Port = 53, ForwardMethod = IpvsForwardMethod.Masquerade }]),
        new(Mark7, [new IpvsDestination { Address = Ip("10.0.1.9"), Port = 0, Weight = 5 }]),
        new(Mark8, []),
        new(Web6, [new IpvsDestination { Address = Ip("2001:db8::10"), Port = 443, ForwardMethod = IpvsForwardMethod.Masquerade, Weight = 4 }]),
        new(Sctp, []),
        new(Sip, []),
        new(Tunnels, [
            new IpvsDestination { Address = Ip("10.0.1.20"), Port = 80, ForwardMethod = IpvsForwardMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080, TunnelFlags = IpvsTunnelFlags.NoChecksum },
            new IpvsDestination { Address = Ip("10.0.1.22"), Port = 80, ForwardMethod = IpvsForwardMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6081, TunnelFlags = IpvsTunnelFlags.RemoteChecksum },
            new IpvsDestination { Address = Ip("10.0.1.21"), Port = 80, ForwardMethod = IpvsForwardMethod.Tunnel, TunnelType = IpvsTunnelType.Gre, TunnelFlags = IpvsTunnelFlags.Checksum },
        ]),
        new(Mixed, [new IpvsDestination { Address = Ip("10.0.1.30"), Port = 80, UpperThreshold = 5 }]),
    ];

    public void RunAll()
    {
        Check("family missing before ip_vs is loaded: clear message", FamilyMissing);
        Check("the family lookup loads ip_vs (module alias); Open() resolves it", () => _client = IpvsClient.Open());
        Check("GET_INFO: version and table size like ipvsadm", Info);
        Check("scheduler module missing: \"scheduler 'mh' not available: load ip_vs_mh\"", SchedulerMissing);
        Check("write every kind of service/destination in one batch, read back equal", WriteAndReadBack);
        Check("GET_SERVICE of one service, and of a missing one (null)", GetOne);
        Check("list matches `ipvsadm -Ln`", () => SameText(IpvsFormatter.List(Client.GetInfo(), Client.GetTable()), Shell.Check("ipvsadm -Ln")));
        Check("list --stats matches `ipvsadm -Ln --stats`", () => SameText(IpvsFormatter.List(Client.GetInfo(), Client.GetTable(), IpvsListFormat.Stats), Shell.Check("ipvsadm -Ln --stats")));
        Check("list --rate matches `ipvsadm -Ln --rate`", () => SameText(IpvsFormatter.List(Client.GetInfo(), Client.GetTable(), IpvsListFormat.Rate), Shell.Check("ipvsadm -Ln --rate")));
        Check("list --thresholds matches `ipvsadm -Ln --thresholds`", () => SameText(IpvsFormatter.List(Client.GetInfo(), Client.GetTable(), IpvsListFormat.Thresholds), Shell.Check("ipvsadm -Ln --thresholds")));
        Check("list --persistent-conn matches `ipvsadm -Ln --persistent-conn`", () => SameText(IpvsFormatter.List(Client.GetInfo(), Client.GetTable(), IpvsListFormat.PersistentConnections), Shell.Check("ipvsadm -Ln --persistent-conn")));
        Check("save matches `ipvsadm -S -n`", () => SameText(IpvsFormatter.Save(Client.GetTable()), Shell.Check("ipvsadm -S -n")));
        Check("table matches /proc/net/ip_vs", () => SameSet(ProcNetIpvs.FromTable(Client.GetTable()), ProcNetIpvs.Read(File.ReadAllText("/proc/net/ip_vs"))));
        Check("save (with thresholds) → ipvsadm-restore → read back equal", RestoreRoundTrip);
        Check("SET_SERVICE / SET_DEST / DEL_DEST / DEL_SERVICE, each checked with `ipvsadm -S -n`", UpdatesAndDeletes);
        Check("drift made with ipvsadm by hand is seen in our read, and corrected", Drift);
        Check("timeouts: set and read back, both ways with `ipvsadm --set` / `-L --timeout`", Timeouts);
        Check("sync daemons: start, list (as `ipvsadm -L --daemon`), stop", SyncDaemons);
        Check("kernel refusals become clear messages", Errors);
        Check("batch with one refusal: the rest applied, the refusal named", BatchWithRefusal);
        Check("statistics: local TCP traffic through a service is counted, matches `ipvsadm -Ln --stats --exact`", Statistics);
        Check("a DR real server keeps the port written (ipvsadm, not the kernel, forces the service's port)", () =>
        {
            var service = IpvsService.Tcp(Ip("10.0.0.6"), 80, "rr");
            Client.AddService(service);
            Client.AddDestination(service, new IpvsDestination { Address = Ip("10.0.1.40"), Port = 8080 });
            var read = Client.GetDestinations(service).Single();
            Console.WriteLine($"     read back: {read.Describe()}");
            Expect(read.Port == 8080 && read.ForwardMethod == IpvsForwardMethod.DirectRoute, $"read back {read.Describe()}");
            Client.DeleteService(service);
        });
        Check("OpenInNamespace writes another network namespace's table, not this one's", () =>
        {
            Shell.Check("ip netns add ipvs-test");
            try
            {
                using var other = IpvsClient.OpenInNamespace("ipvs-test");
                var service = IpvsService.Udp(Ip("192.0.2.1"), 53, "rr");
                other.AddService(service);
                SameText("-A -u 192.0.2.1:53 -s rr\n", Shell.Check("ip netns exec ipvs-test ipvsadm -S -n"));
                Expect(other.GetServices().Count == 1, "the other namespace's client does not see its service");
                Expect(Client.GetService(service) is null, "the service appeared in this namespace");
            }
            finally
            {
                Shell.Run("ip netns del ipvs-test");
            }
            try
            {
                IpvsClient.OpenInNamespace("nosuch").Dispose();
                throw new CheckFailed("a missing namespace was opened");
            }
            catch (FileNotFoundException)
            {
            }
        });
        Check("FLUSH empties the table", () =>
        {
            Client.Flush();
            Expect(Client.GetServices().Count == 0, "services left after flush");
            SameText("", Shell.Check("ipvsadm -S -n"));
        });
        _client?.Dispose();
    }

    private void Check(string name, Action body)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            body();
            Passed++;
            Console.WriteLine($"PASS {name} ({watch.ElapsedMilliseconds} ms)");
        }
        catch (Exception e)
        {
            Failed++;
            Console.WriteLine($"FAIL {name}: {(e is CheckFailed ? e.Message : e.ToString())}");
        }
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new CheckFailed(message);
        }
    }

    private static void SameText(string ours, string theirs)
    {
        if (ours == theirs)
        {
            return;
        }
        var a = ours.Split('\n');
        var b = theirs.Split('\n');
        var line = 0;
        while (line < Math.Min(a.Length, b.Length) && a[line] == b[line])
        {
            line++;
        }
        throw new CheckFailed($"first difference at line {line + 1}:\n  ours:    '{(line < a.Length ? a[line] : "<end>")}'\n  ipvsadm: '{(line < b.Length ? b[line] : "<end>")}'\n--- ours ---\n{ours}--- ipvsadm ---\n{theirs}");
    }

    private static void SameSet(SortedSet<string> ours, SortedSet<string> kernel)
    {
        if (ours.SetEquals(kernel))
        {
            return;
        }
        throw new CheckFailed($"only ours: [{string.Join("; ", ours.Except(kernel))}] only /proc: [{string.Join("; ", kernel.Except(ours))}]");
    }

    // The kernel loads ip_vs by itself when the family is asked for (module alias), so module loading is
    // switched off here to see a kernel without IPVS.
    private static void FamilyMissing()
    {
        if (File.ReadAllText("/proc/modules").Contains("ip_vs ", StringComparison.Ordinal))
        {
            throw new CheckFailed("ip_vs is already loaded; this check needs a fresh guest");
        }
        WithoutModuleLoading(() =>
        {
            Expect(!IpvsClient.IsAvailable(), "IsAvailable() is true without ip_vs");
            try
            {
                using var client = IpvsClient.Open();
                throw new CheckFailed("Open() succeeded without ip_vs");
            }
            catch (IpvsNotAvailableException e)
            {
                Expect(e.Message == "IPVS is not available in this kernel (no generic netlink family IPVS): load ip_vs (modprobe ip_vs)", $"message: {e.Message}");
                Console.WriteLine($"     message: {e.Message}");
            }
        });
    }

    private static void WithoutModuleLoading(Action body)
    {
        const string path = "/proc/sys/kernel/modprobe";
        var original = File.ReadAllText(path).Trim();
        File.WriteAllText(path, "/bin/false");
        try
        {
            body();
        }
        finally
        {
            File.WriteAllText(path, original);
        }
    }

    private void Info()
    {
        var info = Client.GetInfo();
        var header = Shell.Check("ipvsadm -Ln").Split('\n')[0];
        Expect(header == $"IP Virtual Server version {info.VersionText} (size={info.ConnectionTableSize})", $"ours {info} vs '{header}'");
    }

    private void SchedulerMissing() => WithoutModuleLoading(() =>
    {
        {
            var service = IpvsService.Tcp(Ip("10.0.0.99"), 80, "mh");
            try
            {
                Client.AddService(service);
                throw new CheckFailed("the kernel accepted 'mh' with module loading disabled (ip_vs_mh already loaded?)");
            }
            catch (IpvsException e)
            {
                Expect(e.Message == "scheduler 'mh' not available: load ip_vs_mh (modprobe ip_vs_mh)", $"message: {e.Message}");
                Console.WriteLine($"     message: {e.Message}");
            }
        }
    });

    private void WriteAndReadBack()
    {
        Client.Flush();
        var operations = new List<IpvsOperation>();
        foreach (var (service, destinations) in Desired)
        {
            operations.Add(IpvsOperation.AddService(service));
            operations.AddRange(destinations.Select(d => IpvsOperation.AddDestination(service, d)));
        }
        Client.ApplyOrThrow(operations);
        ExpectTable(Desired, Client.GetTable());
    }

    private static void ExpectTable(IReadOnlyList<IpvsTableEntry> desired, IReadOnlyList<IpvsTableEntry> actual)
    {
        var differences = Diff(desired, actual);
        Expect(differences.Count == 0, "differences: " + string.Join("; ", differences));
    }

    /// <summary>What differs between two tables, in words (the shape of a reconciler's drift report).</summary>
    private static List<string> Diff(IReadOnlyList<IpvsTableEntry> desired, IReadOnlyList<IpvsTableEntry> actual)
    {
        var result = new List<string>();
        var actualByKey = actual.ToDictionary(e => e.Service.Key);
        foreach (var (service, destinations) in desired)
        {
            if (!actualByKey.Remove(service.Key, out var found))
            {
                result.Add($"missing service {service}");
                continue;
            }
            if (!service.ConfigurationEquals(found.Service))
            {
                result.Add($"service {service} differs: {found.Service.Describe()} (want {service.Describe()})");
            }
            var actualDestinations = found.Destinations.ToDictionary(d => d.Key);
            foreach (var d in destinations)
            {
                if (!actualDestinations.Remove(d.Key, out var got))
                {
                    result.Add($"missing real server {d} in {service}");
                }
                else if (!d.ConfigurationEquals(got))
                {
                    result.Add($"real server {d} in {service} differs: {got.Describe()} (want {d.Describe()})");
                }
            }
            result.AddRange(actualDestinations.Values.Select(d => $"extra real server {d} in {service}"));
        }
        result.AddRange(actualByKey.Values.Select(e => $"extra service {e.Service}"));
        return result;
    }

    private void GetOne()
    {
        var web = Client.GetService(IpvsService.Tcp(Ip("10.0.0.1"), 80)) ?? throw new CheckFailed("GetService(TCP 10.0.0.1:80) is null");
        Expect(web.ConfigurationEquals(Web), $"got {web}");
        Expect(web.Statistics is not null, "no statistics on the service");
        var mark = Client.GetService(IpvsService.Fwmark(8, IpvsAddressFamily.IPv6)) ?? throw new CheckFailed("GetService(FWM 8 IPv6) is null");
        Expect(mark.Scheduler == "lc" && mark.Family == IpvsAddressFamily.IPv6, $"got {mark}");
        Expect(Client.GetService(IpvsService.Tcp(Ip("10.0.0.1"), 81)) is null, "a missing service was found");
        Expect(Client.GetDestinations(IpvsService.Tcp(Ip("10.0.0.1"), 81)).Count == 0, "a missing service has destinations");
    }

    private void RestoreRoundTrip()
    {
        var saved = IpvsFormatter.Save(Client.GetTable(), thresholds: true);
        Client.Flush();
        Shell.Check("ipvsadm-restore", saved);
        ExpectTable(Desired, Client.GetTable());
    }

    private void UpdatesAndDeletes()
    {
        var web = Web with { Scheduler = "wlc", PersistenceTimeout = 600 };
        Client.UpdateService(web);
        Expect(Shell.Check("ipvsadm -S -n").Contains("-A -t 10.0.0.1:80 -s wlc -p 600 -M 255.255.255.0\n", StringComparison.Ordinal), "service change not seen by ipvsadm");
        var destination = Desired[0].Destinations[0] with { Weight = 9 };
        Client.UpdateDestination(web, destination);
        Expect(Shell.Check("ipvsadm -S -n").Contains("-a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 9\n", StringComparison.Ordinal), "weight change not seen by ipvsadm");
        Client.DeleteDestination(web, destination);
        Expect(!Shell.Check("ipvsadm -S -n").Contains("10.0.1.2:8080", StringComparison.Ordinal), "deleted destination still listed");
        Client.DeleteService(Dns);
        Expect(!Shell.Check("ipvsadm -S -n").Contains("-u 10.0.0.1:53", StringComparison.Ordinal), "deleted service still listed");
        // Back to the desired table for the next checks.
        Client.ApplyOrThrow([
            IpvsOperation.UpdateService(Web),
            IpvsOperation.AddDestination(Web, Desired[0].Destinations[0]),
            IpvsOperation.AddService(Dns),
            IpvsOperation.AddDestination(Dns, Desired[1].Destinations[0]),
        ]);
        ExpectTable(Desired, Client.GetTable());
    }

    private void Drift()
    {
        Shell.Check("ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 7 -x 100 -y 10"
            + " && ipvsadm -a -u 10.0.0.1:53 -r 10.0.1.6:53 -m"
            + " && ipvsadm -d -t 10.0.0.4:80 -r 10.0.1.21:80"
            + " && ipvsadm -E -t 10.0.0.3:80 -s rr -p 100 --pe sip"
            + " && ipvsadm -A -t 10.0.0.77:80 -s rr");
        var differences = Diff(Desired, Client.GetTable());
        Console.WriteLine("     drift seen: " + string.Join("; ", differences));
        Expect(differences.Count == 5, $"expected 5 differences, got {differences.Count}");
        Expect(differences.Contains("real server 10.0.1.2:8080 in TCP 10.0.0.1:80 differs: 10.0.1.2:8080 Masq weight 7 thresholds 100/10 (want 10.0.1.2:8080 Masq weight 3 thresholds 100/10)"), "weight drift not seen");
        Expect(differences.Contains("extra real server 10.0.1.6:53 in UDP 10.0.0.1:53"), "added destination not seen");
        Expect(differences.Contains("missing real server 10.0.1.21:80 in TCP 10.0.0.4:80"), "deleted destination not seen");
        Expect(differences.Contains("service TCP 10.0.0.3:80 differs: TCP 10.0.0.3:80 rr persistent 100 pe sip (want TCP 10.0.0.3:80 sed persistent 100 pe sip)"), "scheduler change not seen");
        Expect(differences.Contains("extra service TCP 10.0.0.77:80"), "added service not seen");
        Client.ApplyOrThrow([
            IpvsOperation.UpdateDestination(Web, Desired[0].Destinations[0]),
            IpvsOperation.DeleteDestination(Dns, new IpvsDestination { Address = Ip("10.0.1.6"), Port = 53 }),
            IpvsOperation.AddDestination(Tunnels, Desired[7].Destinations[2]),
            IpvsOperation.UpdateService(Sip),
            IpvsOperation.DeleteService(IpvsService.Tcp(Ip("10.0.0.77"), 80)),
        ]);
        ExpectTable(Desired, Client.GetTable());
        SameText(IpvsFormatter.Save(Desired), Shell.Check("ipvsadm -S -n"));
    }

    private void Timeouts()
    {
        Client.SetTimeouts(new IpvsTimeouts(900, 120, 300));
        Expect(Client.GetTimeouts() == new IpvsTimeouts(900, 120, 300), $"read back {Client.GetTimeouts()}");
        SameText(IpvsFormatter.Timeouts(Client.GetTimeouts()), Shell.Check("ipvsadm -L --timeout"));
        Shell.Check("ipvsadm --set 100 20 30");
        Expect(Client.GetTimeouts() == new IpvsTimeouts(100, 20, 30), $"after ipvsadm --set: {Client.GetTimeouts()}");
        Client.SetTimeouts(new IpvsTimeouts(0, 60, 0));
        Expect(Client.GetTimeouts() == new IpvsTimeouts(100, 60, 30), $"0 should leave a timeout unchanged: {Client.GetTimeouts()}");
    }

    private void SyncDaemons()
    {
        Expect(Client.GetSyncDaemons().Count == 0, "a daemon runs before the test");
        Client.StartSyncDaemon(new IpvsSyncDaemon { State = IpvsSyncState.Master, Interface = "lo", SyncId = 5 });
        Client.StartSyncDaemon(new IpvsSyncDaemon { State = IpvsSyncState.Backup, Interface = "lo", SyncId = 6, MulticastGroup = Ip("224.0.0.81"), MulticastPort = 8848, MulticastTtl = 1 });
        var daemons = Client.GetSyncDaemons();
        Expect(daemons.Count == 2, $"{daemons.Count} daemons");
        SameText(IpvsFormatter.Daemons(daemons), Shell.Check("ipvsadm -L --daemon"));
        Client.StopSyncDaemon(IpvsSyncState.Master);
        Client.StopSyncDaemon(IpvsSyncState.Backup);
        Expect(Client.GetSyncDaemons().Count == 0, "daemons left after stop");
        SameText("", Shell.Check("ipvsadm -L --daemon"));
    }

    private void Errors()
    {
        ExpectError(() => Client.AddService(IpvsService.Tcp(Ip("10.0.0.9"), 80, "nosuch")),
            "scheduler 'nosuch' not available: load ip_vs_nosuch (modprobe ip_vs_nosuch)");
        ExpectError(() => Client.AddService(IpvsService.Tcp(Ip("10.0.0.9"), 80, "rr").WithPersistence(10) with { PersistenceEngine = "nope" }),
            "scheduler 'rr' or persistence engine 'nope' not available: load ip_vs_rr and ip_vs_pe_nope");
        ExpectError(() => Client.AddService(Web), "virtual service TCP 10.0.0.1:80 already exists");
        ExpectError(() => Client.UpdateService(IpvsService.Tcp(Ip("10.0.0.99"), 80)), "virtual service TCP 10.0.0.99:80 does not exist");
        ExpectError(() => Client.DeleteService(IpvsService.Fwmark(99)), "virtual service FWM 99 does not exist");
        var missing = new IpvsDestination { Address = Ip("10.0.1.99"), Port = 80 };
        ExpectError(() => Client.AddDestination(IpvsService.Tcp(Ip("10.0.0.99"), 80), missing),
            "adding real server 10.0.1.99:80 to TCP 10.0.0.99:80: virtual service TCP 10.0.0.99:80 does not exist");
        ExpectError(() => Client.AddDestination(Web, Desired[0].Destinations[0]), "real server 10.0.1.2:8080 already exists in virtual service TCP 10.0.0.1:80");
        ExpectError(() => Client.UpdateDestination(Web, missing), "real server 10.0.1.99:80 does not exist in virtual service TCP 10.0.0.1:80");
        ExpectError(() => Client.DeleteDestination(Web, missing), "real server 10.0.1.99:80 does not exist in virtual service TCP 10.0.0.1:80");
        ExpectError(() => Client.StopSyncDaemon(IpvsSyncState.Master), "the master sync daemon is not running");
        ExpectError(() => Client.StartSyncDaemon(new IpvsSyncDaemon { State = IpvsSyncState.Master, Interface = "nosuch0" }),
            "starting the master sync daemon: interface 'nosuch0' does not exist");
        var invalid = IpvsService.Tcp(Ip("2001:db8::5"), 80, "rr").WithPersistence(10, 200);
        try
        {
            Client.AddService(invalid);
            throw new CheckFailed("an IPv6 netmask of 200 was accepted");
        }
        catch (IpvsException e)
        {
            Expect(e.Errno == IpvsErrors.EINVAL && e.Message.StartsWith("adding virtual service TCP [2001:db8::5]:80: invalid argument (EINVAL)", StringComparison.Ordinal), $"message: {e.Message}");
            Console.WriteLine($"     EINVAL: {e.Message}");
        }
        ExpectTable(Desired, Client.GetTable());
    }

    private static void ExpectError(Action action, string message)
    {
        try
        {
            action();
        }
        catch (IpvsException e)
        {
            Expect(e.Message == message, $"message '{e.Message}', expected '{message}'");
            return;
        }
        throw new CheckFailed($"no error; expected '{message}'");
    }

    private void BatchWithRefusal()
    {
        var service = IpvsService.Tcp(Ip("10.0.5.1"), 80, "rr");
        var operations = new List<IpvsOperation> { IpvsOperation.AddService(service) };
        for (var i = 0; i < 1000; i++)
        {
            operations.Add(IpvsOperation.AddDestination(service, new IpvsDestination { Address = new IPAddress([10, 6, (byte)(i / 250), (byte)(i % 250 + 1)]), Port = 80 }));
        }
        operations.Insert(500, IpvsOperation.AddDestination(service, operations[10].Destination!));
        var failures = Client.Apply(operations);
        Expect(failures.Count == 1, $"{failures.Count} refusals");
        Expect(failures[0].Message == "real server 10.6.0.10:80 already exists in virtual service TCP 10.0.5.1:80", failures[0].Message);
        Expect(Client.GetDestinations(service).Count == 1000, $"{Client.GetDestinations(service).Count} destinations");
        Client.DeleteService(service);
    }

    private void Statistics()
    {
        Shell.Check("ip addr add 10.9.9.9/32 dev lo");
        var service = IpvsService.Tcp(Ip("10.9.9.9"), 80, "rr");
        Client.AddService(service);
        Client.AddDestination(service, new IpvsDestination { Address = Ip("10.9.9.9"), Port = 8080, ForwardMethod = IpvsForwardMethod.Masquerade });
        var listener = new TcpListener(Ip("10.9.9.9"), 8080);
        listener.Start();
        const int connections = 5;
        var server = Task.Run(() =>
        {
            for (var i = 0; i < connections; i++)
            {
                using var peer = listener.AcceptTcpClient();
                var stream = peer.GetStream();
                var buffer = new byte[16];
                var n = stream.Read(buffer);
                stream.Write(buffer, 0, n);
            }
        });
        for (var i = 0; i < connections; i++)
        {
            using var client = new TcpClient();
            client.ReceiveTimeout = 5000;
            if (!client.ConnectAsync(Ip("10.9.9.9"), 80).Wait(5000))
            {
                throw new CheckFailed("connecting to the virtual service timed out");
            }
            var stream = client.GetStream();
            stream.Write("hello"u8);
            var buffer = new byte[16];
            Expect(stream.Read(buffer) == 5, "no echo through the virtual service");
        }
        Expect(server.Wait(5000), "the real server did not see every connection");
        listener.Stop();
        // The kernel folds its per-CPU counters into what it reports every 2 s (the rate estimator's tick).
        Thread.Sleep(2500);
        var entry = Client.GetTable().Single(e => e.Service.Key == service.Key);
        var stats = entry.Service.Statistics!;
        var destination = entry.Destinations.Single();
        Console.WriteLine($"     service: {stats}");
        Console.WriteLine($"     real server {destination} ({destination.ForwardMethod}): active {destination.ActiveConnections}, inactive {destination.InactiveConnections}, {destination.Statistics}");
        Expect(stats.Connections == connections, $"{stats.Connections} connections counted");
        Expect(stats.InPackets >= connections * 3 && stats.InBytes > 0, "packets/bytes not counted");
        Expect(destination.Statistics!.Connections == connections, "destination connections not counted");
        // Counters are settled; a retry covers an estimator tick between the two reads.
        for (var attempt = 1; ; attempt++)
        {
            var ours = IpvsFormatter.List(Client.GetInfo(), Client.GetTable(), IpvsListFormat.Stats, exact: true);
            var theirs = Shell.Check("ipvsadm -Ln --stats --exact");
            if (ours == theirs || attempt == 3)
            {
                SameText(ours, theirs);
                break;
            }
        }
        Client.DeleteService(service);
        Shell.Check("ip addr del 10.9.9.9/32 dev lo");
    }
}
