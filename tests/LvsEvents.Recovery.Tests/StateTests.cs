using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Recovery.Policy;
using LvsEvents.Recovery.Service;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.Recovery.Tests;

public sealed class StateTests : IDisposable
{
    private static readonly VirtualServiceRef Service = VirtualServiceRef.Tcp("10.0.0.100", 80);
    private static readonly RealServerRef Web1 = new(Service, "10.0.0.21", 8080);
    private static readonly RealServerRef Web2 = new(Service, "10.0.0.22", 8080);
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("lvr-state-").FullName;

    public void Dispose() => Directory.Delete(_directory, true);

    private static RecoveryOptions Options() => new()
    {
        SlowStart = { Steps = "10,25,50,100", Interval = TimeSpan.FromSeconds(30) },
        FlapHold = { Transitions = 4, Window = TimeSpan.FromMinutes(5), Stability = TimeSpan.FromMinutes(2) },
    };

    private static SelfHealingPolicy Policy() => new(Options(), s => s == Web1 ? 20 : s == Web2 ? 8 : null);

    private static RealServerHealthChanged Change(RealServerRef server, HealthState from, HealthState to, DateTimeOffset at) => new()
    {
        EventId = Guid.CreateVersion7(at), OccurredAt = at, NodeId = "lvs-1", RealServer = server, From = from, To = to, Checker = "TCP_CHECK",
    };

    [Fact]
    public void A_restarted_policy_resumes_the_ramp_and_the_hold_from_the_saved_file_and_ignores_events_it_acted_on()
    {
        var before = Policy();
        before.Handle(Change(Web1, HealthState.Up, HealthState.Down, T0), T0);
        var up = Change(Web1, HealthState.Down, HealthState.Up, T0.AddSeconds(1));
        before.Handle(up, T0.AddSeconds(1));
        before.Tick(T0.AddSeconds(31)); // step 2 (25%)
        var states = new[] { HealthState.Up, HealthState.Down, HealthState.Up, HealthState.Down, HealthState.Up };
        for (var i = 1; i < states.Length; i++)
        {
            before.Handle(Change(Web2, states[i - 1], states[i], T0.AddSeconds(i)), T0.AddSeconds(i));
        }

        Assert.True(before.View(Web2)!.Held);
        var file = new RecoveryStateFile(Path.Combine(_directory, "sub", "recovery-state.json"), NullLogger<RecoveryStateFile>.Instance);
        file.Save(before.Export());

        var after = Policy();
        after.Import(file.Load()!);
        Assert.Equal(new ServerView(HealthState.Up, 1, false, 2), after.View(Web1));
        Assert.True(after.View(Web2)!.Held);
        Assert.Empty(after.Handle(up, T0.AddSeconds(40)));

        var next = after.Tick(T0.AddSeconds(61));
        Assert.Equal([10], next.OfType<SetWeightCommand>().Where(c => c.RealServer == Web1).Select(c => c.Weight));
        Assert.All(next.Where(e => e is LvsCommand c && c is SetWeightCommand { RealServer: var r } && r == Web1), e => Assert.Equal(up.EventId, e.CorrelationId));
        Assert.Single(after.Tick(T0.AddSeconds(91)).OfType<RestoreCommand>(), r => r.RealServer == Web1);
        // Web2 came up at T0+4s and stayed: released two minutes later.
        Assert.Contains(after.Tick(T0.AddSeconds(124)).OfType<RecoveryDecision>(), d => d.Action == RecoveryAction.Released && d.RealServer == Web2);
    }

    [Fact]
    public void The_version_moves_on_state_changes_only()
    {
        var policy = Policy();
        var down = Change(Web1, HealthState.Up, HealthState.Down, T0);
        policy.Handle(down, T0);
        var v = policy.Version;
        policy.Handle(down, T0);
        Assert.Empty(policy.Tick(T0.AddSeconds(5)));
        Assert.Equal(v, policy.Version);
        policy.Handle(Change(Web1, HealthState.Down, HealthState.Up, T0.AddSeconds(6)), T0.AddSeconds(6));
        Assert.True(policy.Version > v);
        v = policy.Version;
        Assert.NotEmpty(policy.Tick(T0.AddSeconds(36)));
        Assert.True(policy.Version > v);
    }

    [Fact]
    public void The_saved_state_is_readable_json_and_a_corrupt_file_is_ignored()
    {
        var policy = Policy();
        policy.Handle(Change(Web1, HealthState.Up, HealthState.Down, T0), T0);
        var path = Path.Combine(_directory, "recovery-state.json");
        var file = new RecoveryStateFile(path, NullLogger<RecoveryStateFile>.Instance);
        file.Save(policy.Export());
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(path)))
        {
            var server = doc.RootElement.GetProperty("servers")[0];
            Assert.Equal("TCP/10.0.0.100:80->10.0.0.21:8080", server.GetProperty("server").GetString());
            Assert.Equal("Down", server.GetProperty("health").GetString());
        }

        File.WriteAllText(path, "{ not json");
        Assert.Null(file.Load());
        Assert.Null(new RecoveryStateFile(Path.Combine(_directory, "missing.json"), NullLogger<RecoveryStateFile>.Instance).Load());
    }
}
