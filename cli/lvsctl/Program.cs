using LvsEvents.Lvsctl.Commands;

namespace LvsEvents.Lvsctl;

/// <summary>lvsctl: dispatches <c>lvsctl &lt;group&gt; ...</c> to the command group of that name.</summary>
public static class Program
{
    /// <summary>Every command group; add new groups (e.g. events) here.</summary>
    public static IReadOnlyList<ICommandGroup> Groups { get; } =
    [
        new ConfigCommand(),
        new EventsCommand(),
        new ReloadCommand(),
        new IpvsCommand(),
        new StateCommand(),
        new StatusCommand(),
        new ReplayCommand(),
        new PostmortemCommand(),
        new DrillCommand(),
        new CanaryCommand(),
    ];

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (args.Count == 1 && args[0] is "-h" or "--help" or "help")
        {
            WriteUsage(output);
            return 0;
        }

        var group = args.Count == 0 ? null : Groups.FirstOrDefault(g => g.Name == args[0]);
        if (group is null)
        {
            WriteUsage(error);
            return 2;
        }

        return group.Run(args.Skip(1).ToList(), output, error);
    }

    private static void WriteUsage(TextWriter writer)
    {
        foreach (var line in Groups.SelectMany(g => g.Usage))
        {
            writer.WriteLine($"usage: {line}");
        }
    }
}
