using System.Globalization;
using LvsEvents.Contracts;
using LvsEvents.Lvsctl.Bus;
using LvsEvents.Replay;

namespace LvsEvents.Lvsctl.Commands;

/// <summary>
/// <c>lvsctl status</c>: the cluster now, usable on any director. From the store: the monitor's live cluster view
/// (VIP owners, node states, real-server health and weights, kernel weights per director, open alerts) and which
/// services sent a heartbeat lately. From the bus: what the services publish during a short listen (kernel traffic
/// per virtual service, probe results per real server, state changes newer than the store has).
/// </summary>
public sealed class StatusCommand : ICommandGroup
{
    private static readonly TimeSpan HeartbeatWindow = TimeSpan.FromMinutes(2);

    public string Name => "status";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl status [--listen 6s] [--json]   the cluster now: the store's live view and a short listen on the bus (--listen 0 skips it)",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        var options = ReplayOptions.Parse(arguments, ["--json"], error, Name, Usage[0]);
        if (options is null)
        {
            return 2;
        }

        var listen = TimeSpan.FromSeconds(6);
        if (options.Value("--listen") is { } text && !TryDuration(text, out listen))
        {
            error.WriteLine($"lvsctl status: --listen: '{text}' is not a duration (e.g. 6s, 500ms, 0)");
            return 2;
        }

        return ReplayOptions.WithStore(options, error, Name, async (events, projection, cancellationToken) =>
        {
            var now = DateTimeOffset.UtcNow;
            // The bus listen runs while the store is read.
            var listening = listen > TimeSpan.Zero
                ? ListenAsync(listen, cancellationToken)
                : Task.FromResult<(IReadOnlyList<LvsEvent>?, string?)>((null, "not asked (--listen 0)"));
            ClusterView view;
            string source;
            if (await projection.ReadLiveAsync(cancellationToken).ConfigureAwait(false) is { } live)
            {
                view = live.View;
                source = "the monitor's live view";
            }
            else
            {
                view = (await projection.StateAtAsync(now, cancellationToken).ConfigureAwait(false)).View;
                source = "a fold of the stored events (no live view kept yet)";
            }

            var heartbeats = new List<LvsEvent>();
            await foreach (var stored in events.ReadAsync(
                new EventFilter { From = now - HeartbeatWindow, Types = [EventTypes.ServiceHeartbeat, EventTypes.ServiceStarted, EventTypes.ServiceStopping] },
                cancellationToken).ConfigureAwait(false))
            {
                heartbeats.Add(stored.Event);
            }

            var (heard, busProblem) = await listening.ConfigureAwait(false);
            if (options.Has("--json"))
            {
                output.WriteLine(ClusterStatus.Json(view, heartbeats, heard, busProblem));
            }
            else
            {
                output.Write(ClusterStatus.Text(view, source, now, HeartbeatWindow, heartbeats, heard, listen, busProblem));
            }

            return 0;
        });
    }

    private static async Task<(IReadOnlyList<LvsEvent>?, string?)> ListenAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        try
        {
            return (await BusListener.ListenAsync(Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq"), window, cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store's part is still worth printing: the bus may be what is broken.
            return (null, e.GetBaseException().Message);
        }
    }

    internal static bool TryDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text == "0")
        {
            return true;
        }

        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : (text, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || value > 3600)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(value * unit);
        return true;
    }
}
