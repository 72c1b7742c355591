using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.EventStore;
using LvsEvents.Replay;
using Npgsql;

namespace LvsEvents.Lvsctl.Commands;

/// <summary><c>lvsctl replay</c>: the events of a window in time order, filtered; <c>--follow</c> tails new ones.</summary>
public sealed class ReplayCommand : ICommandGroup
{
    public string Name => "replay";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl replay --from TIME [--to TIME] [--stream KEY[*]] [--type TYPE[*]] [--node N] [--instance I] [--vs VS] [--rs RS] [--no-probes] [--limit N] [--follow]",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error) => Run(arguments, output, error, CancellationToken.None);

    /// <summary>As <see cref="Run(IReadOnlyList{string}, TextWriter, TextWriter)"/>; <paramref name="stop"/> ends a <c>--follow</c> as Ctrl-C does.</summary>
    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error, CancellationToken stop)
    {
        var options = ReplayOptions.Parse(arguments, ["--follow", "--no-probes"], error, Name, Usage[0]);
        if (options is null)
        {
            return 2;
        }

        var now = DateTimeOffset.UtcNow;
        if (!options.Time("--from", now, out var from, required: true) || !options.Time("--to", now, out var to, required: false))
        {
            return 2;
        }

        var streams = options.All("--stream").ToList();
        streams.AddRange(options.All("--instance").Select(i => $"vrrp:*:{i}"));
        streams.AddRange(options.All("--vs").SelectMany(v => new[] { $"vs:{v}", $"rs:{v}->*" }));
        streams.AddRange(options.All("--rs").Select(r => $"rs:{r}"));
        var filter = new EventFilter
        {
            From = from,
            To = options.Has("--to") ? to : null,
            Streams = streams,
            Types = options.All("--type").ToList(),
            Node = options.Value("--node"),
            ExcludedTypes = options.Has("--no-probes") ? [EventTypes.ProbeCompleted] : [],
            Limit = options.Value("--limit") is { } l && int.TryParse(l, out var limit) && limit > 0 ? limit : null,
        };
        // A middle '*' (vrrp:*:VI_1) is not a prefix: match it on the client.
        var middle = filter.Streams.Where(s => s.IndexOf('*') is var i && i >= 0 && i < s.Length - 1).ToList();
        var plain = filter.Streams.Except(middle).ToList();
        if (middle.Count > 0)
        {
            filter = filter with { Streams = [.. filter.Streams.Except(middle), .. middle.Select(m => m[..m.IndexOf('*')] + "*")] };
        }

        return ReplayOptions.WithStore(options, error, Name, stop, async (events, _, cancellationToken) =>
        {
            var total = await events.CountAsync(filter with { Limit = null }, cancellationToken).ConfigureAwait(false);
            total = filter.Limit is { } cap ? Math.Min(cap, total) : total;
            var progress = new Progress(error, total);
            long last = 0;
            long written = 0;
            await foreach (var stored in events.ReadAsync(filter, cancellationToken).ConfigureAwait(false))
            {
                last = Math.Max(last, stored.Sequence);
                if (Matches(middle, plain, stored.StreamKey))
                {
                    output.WriteLine(EventsCommand.Format(stored.Event));
                    written++;
                }

                progress.Step();
            }

            progress.Done();
            error.WriteLine($"{written} events");
            if (!options.Has("--follow"))
            {
                return 0;
            }

            if (last == 0)
            {
                last = await events.MaxSequenceAsync(cancellationToken).ConfigureAwait(false);
            }

            var follow = filter with { From = null, To = null, Limit = 10_000, BySequence = true };
            while (!cancellationToken.IsCancellationRequested)
            {
                var any = false;
                await foreach (var stored in events.ReadAsync(follow with { AfterSequence = last }, cancellationToken).ConfigureAwait(false))
                {
                    last = stored.Sequence;
                    any = true;
                    if (Matches(middle, plain, stored.StreamKey))
                    {
                        output.WriteLine(EventsCommand.Format(stored.Event));
                    }
                }

                output.Flush();
                if (!any)
                {
                    await Task.Delay(500, cancellationToken).ConfigureAwait(false);
                }
            }

            return 0;
        });
    }

    /// <summary>Patterns with a middle '*' were widened to their prefix in SQL; here a stream must match one of them or a plain filter.</summary>
    internal static bool Matches(List<string> middle, List<string> plain, string stream)
    {
        if (middle.Count == 0)
        {
            return true;
        }

        return middle.Any(p =>
        {
            var star = p.IndexOf('*');
            return stream.Length >= p.Length - 1 && stream.StartsWith(p[..star], StringComparison.Ordinal) && stream.EndsWith(p[(star + 1)..], StringComparison.Ordinal);
        }) || plain.Any(p => p.EndsWith('*') ? stream.StartsWith(p[..^1], StringComparison.Ordinal) : stream == p);
    }

    /// <summary>A progress bar on stderr for windows over 20,000 events.</summary>
    private sealed class Progress(TextWriter error, long total)
    {
        private long _done;
        private int _shown = -1;

        public void Step()
        {
            if (total < 20_000)
            {
                return;
            }

            var percent = (int)(++_done * 100 / total);
            if (percent != _shown && percent % 2 == 0)
            {
                _shown = percent;
                error.Write($"\r[{new string('#', percent / 4),-25}] {percent,3}% {_done}/{total}");
            }
        }

        public void Done()
        {
            if (total >= 20_000)
            {
                error.WriteLine();
            }
        }
    }
}

/// <summary>Argument handling shared by replay, state and postmortem.</summary>
internal sealed class ReplayOptions
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly TextWriter _error;
    private readonly string _command;

    private ReplayOptions(TextWriter error, string command)
    {
        _error = error;
        _command = command;
    }

    public static ReplayOptions? Parse(IReadOnlyList<string> arguments, IReadOnlyCollection<string> flags, TextWriter error, string command, string usage)
    {
        var options = new ReplayOptions(error, command);
        for (var i = 0; i < arguments.Count; i++)
        {
            var name = arguments[i];
            if (flags.Contains(name))
            {
                options._flags.Add(name);
                continue;
            }

            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= arguments.Count || flags.Contains(arguments[i + 1]))
            {
                error.WriteLine($"lvsctl {command}: unexpected or incomplete argument '{name}'");
                error.WriteLine($"usage: {usage}");
                return null;
            }

            if (!usage.Contains(name + " ", StringComparison.Ordinal) && !usage.Contains(name + "]", StringComparison.Ordinal) && name != "--schema")
            {
                error.WriteLine($"lvsctl {command}: unknown option '{name}'");
                error.WriteLine($"usage: {usage}");
                return null;
            }

            var list = options._values.TryGetValue(name, out var known) ? known : options._values[name] = [];
            list.AddRange(arguments[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return options;
    }

    public bool Has(string name) => _flags.Contains(name) || _values.ContainsKey(name);

    public string? Value(string name) => _values.TryGetValue(name, out var list) ? string.Join(",", list) : null;

    public IEnumerable<string> All(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public bool Time(string name, DateTimeOffset now, out DateTimeOffset at, bool required)
    {
        at = now;
        if (Value(name) is not { } text)
        {
            if (required)
            {
                _error.WriteLine($"lvsctl {_command}: {name} TIME is required (ISO time, or relative like -15m, 2h)");
            }

            return !required;
        }

        if (TimeArguments.TryParse(text, now, out at))
        {
            return true;
        }

        _error.WriteLine($"lvsctl {_command}: '{name} {text}' is not a time (ISO like 2026-11-25T10:00:00Z, or relative like -15m, 2h, 1d)");
        return false;
    }

    /// <summary>Opens the store (ConnectionStrings__eventstore; schema from --schema or EventStore__Schema) and runs; Ctrl-C cancels.</summary>
    public static int WithStore(ReplayOptions options, TextWriter error, string command, Func<StoredEvents, ClusterProjection, CancellationToken, Task<int>> run) =>
        WithStore(options, error, command, CancellationToken.None, run);

    public static int WithStore(ReplayOptions options, TextWriter error, string command, CancellationToken stop, Func<StoredEvents, ClusterProjection, CancellationToken, Task<int>> run)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var connectionString = EventStoreSchema.Validate(Environment.GetEnvironmentVariable("ConnectionStrings__eventstore"));
            var schema = options.Value("--schema") ?? Environment.GetEnvironmentVariable("EventStore__Schema") ?? EventStoreSchema.SchemaName;
            using var dataSource = NpgsqlDataSource.Create(connectionString);
            var projection = new ClusterProjection(dataSource, schema);
            return run(projection.Events, projection, cancel.Token).GetAwaiter().GetResult();
        }
        catch (ConfigurationException e)
        {
            error.WriteLine($"lvsctl {command}: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return 0;
        }
        catch (NpgsqlException e)
        {
            error.WriteLine($"lvsctl {command}: the event store is not reachable or not set up: {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
