using System.Globalization;

namespace LvsEvents.Vrrp.Tests;

/// <summary>
/// Every thread of lvs-vrrp runs at its configured nice, not only the protocol threads: a garbage collection runs on
/// whichever thread needed it and stops the protocol threads meanwhile, so a nice-0 thread on a loaded director would
/// silence the master.
/// </summary>
public sealed class ProcessNiceTests : IAsyncLifetime
{
    private readonly VrrpLab _lab = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    [Theory(Timeout = 60_000)]
    [InlineData(null, -10)]
    [InlineData(-5, -5)]
    public async Task Every_thread_of_the_speaker_runs_at_the_configured_nice(int? configured, int expected)
    {
        var a = _lab.AddNode("a", 1);
        string[] arguments = configured is { } nice ? [$"--Vrrp:ProcessNice={nice}"] : [];
        var ours = await _lab.StartOursAsync(a, _lab.Settings(a, 150, master: true), arguments);
        await VrrpLab.WaitForVipAsync(ours, TimeSpan.FromSeconds(20), "master alone");

        var nices = ThreadNices(ours.ProcessId);
        // A speaker that ran threads at other nices would show them here; at least the runtime's, the host's and the
        // instance's two protocol threads exist.
        Assert.True(nices.Count >= 5, $"only {nices.Count} threads listed");
        Assert.All(nices, t => Assert.True(t.Nice == expected, $"thread {t.Tid} ({t.Name}) runs at nice {t.Nice}, not {expected}"));
    }

    private static List<(int Tid, string Name, int Nice)> ThreadNices(int pid)
    {
        var threads = new List<(int, string, int)>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (IOException)
            {
                continue; // ended since it was listed
            }

            // pid (comm) state ppid ... : the name may hold spaces, so fields are counted after its closing parenthesis.
            var close = stat.LastIndexOf(')');
            var name = stat[(stat.IndexOf('(') + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            // Field 19 of stat is nice; after the name, state is field 3, so nice is at index 19 - 3.
            threads.Add((int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture), name, int.Parse(fields[19 - 3], CultureInfo.InvariantCulture)));
        }

        return threads;
    }
}
