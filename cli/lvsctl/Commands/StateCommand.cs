using LvsEvents.Replay;

namespace LvsEvents.Lvsctl.Commands;

/// <summary><c>lvsctl state --at TIME</c>: the cluster view at that instant (from the nearest snapshot); <c>--rebuild</c> projects again from all events.</summary>
public sealed class StateCommand : ICommandGroup
{
    public string Name => "state";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl state [--at TIME] [--json] [--rebuild]   the cluster view at an instant (ISO or -15m; default now)",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        var options = ReplayOptions.Parse(arguments, ["--json", "--rebuild"], error, Name, Usage[0]);
        if (options is null || !options.Time("--at", DateTimeOffset.UtcNow, out var at, required: false))
        {
            return 2;
        }

        return ReplayOptions.WithStore(options, error, Name, async (_, projection, cancellationToken) =>
        {
            if (options.Has("--rebuild"))
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var rebuilt = await projection.RebuildAsync(cancellationToken).ConfigureAwait(false);
                error.WriteLine($"rebuilt the cluster view from {rebuilt.EventsApplied} events in {clock.Elapsed.TotalSeconds:0.00} s");
            }

            var state = await projection.StateAtAsync(at, cancellationToken).ConfigureAwait(false);
            output.Write(options.Has("--json") ? state.View.ToJson() + Environment.NewLine : ReportText.View(state.View, at));
            error.WriteLine($"from {(state.SnapshotAt is { } s ? "the snapshot of " + ReportText.Time(s) : "the beginning")} + {state.EventsReplayed} events in {state.Took.TotalMilliseconds:0} ms");
            return 0;
        });
    }
}
