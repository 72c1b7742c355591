namespace LvsEvents.Lvsctl.Commands;

/// <summary>One <c>lvsctl &lt;group&gt; ...</c> command group (config, events, ...).</summary>
public interface ICommandGroup
{
    /// <summary>The first word on the command line, e.g. <c>config</c>.</summary>
    string Name { get; }

    /// <summary>One usage line per sub-command, shown by <c>lvsctl --help</c> and on bad arguments.</summary>
    IReadOnlyList<string> Usage { get; }

    /// <summary>Runs with the arguments after the group name; returns the process exit code (2 for bad usage).</summary>
    int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error);
}
