using LvsEvents.Replay;

namespace LvsEvents.Lvsctl.Commands;

/// <summary><c>lvsctl postmortem --from --to [--html FILE]</c>: an incident report from the recorded events.</summary>
public sealed class PostmortemCommand : ICommandGroup
{
    public string Name => "postmortem";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl postmortem --from TIME [--to TIME] [--html FILE]   failovers, outages, weights, kernel, alerts, config of a window",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        var options = ReplayOptions.Parse(arguments, [], error, Name, Usage[0]);
        var now = DateTimeOffset.UtcNow;
        if (options is null || !options.Time("--from", now, out var from, required: true) || !options.Time("--to", now, out var to, required: false))
        {
            return 2;
        }

        if (to <= from)
        {
            error.WriteLine($"lvsctl {Name}: --to must be after --from");
            return 2;
        }

        return ReplayOptions.WithStore(options, error, Name, async (_, projection, cancellationToken) =>
        {
            var report = await new PostmortemBuilder(projection).BuildAsync(from, to, cancellationToken).ConfigureAwait(false);
            output.Write(ReportText.Postmortem(report));
            if (options.Value("--html") is { } file)
            {
                await File.WriteAllTextAsync(file, ReportHtml.Render(report), cancellationToken).ConfigureAwait(false);
                error.WriteLine($"wrote {file}");
            }

            error.WriteLine($"{report.EventsRead} events in {report.Took.TotalMilliseconds:0} ms");
            return 0;
        });
    }
}
