using LvsEvents.Contracts;

namespace LvsEvents.Health.State;

/// <summary>What one checker result did to a real server.</summary>
/// <param name="StateChanged">The server's new state when it changed.</param>
/// <param name="OldWeight">The weight before.</param>
/// <param name="NewWeight">The weight after.</param>
public readonly record struct RealServerChange(HealthState? StateChanged, int OldWeight, int NewWeight)
{
    public bool WeightChanged => OldWeight != NewWeight;
}

/// <summary>
/// A real server's health from all its checkers, as keepalived keeps it: up only while every checker is up (a server
/// without checkers is always up). Its weight is the configured one, or the one misc_dynamic last asked for; with
/// inhibit_on_failure a down server stays in the table with weight 0 instead of being removed.
/// </summary>
public sealed class RealServerHealth
{
    private readonly bool[] _checkerUp;
    private readonly bool _inhibitOnFailure;
    private int _failedCheckers;
    private int _wantedWeight;

    /// <param name="configuredWeight">weight in the configuration.</param>
    /// <param name="inhibitOnFailure">inhibit_on_failure of the server or its virtual server.</param>
    /// <param name="checkersInitiallyUp">Each checker's state to start from.</param>
    /// <param name="wantedWeight">A misc_dynamic weight carried over a reload.</param>
    public RealServerHealth(int configuredWeight, bool inhibitOnFailure, IReadOnlyList<bool> checkersInitiallyUp, int? wantedWeight = null)
    {
        ConfiguredWeight = configuredWeight;
        _wantedWeight = wantedWeight ?? configuredWeight;
        _inhibitOnFailure = inhibitOnFailure;
        _checkerUp = [.. checkersInitiallyUp];
        _failedCheckers = _checkerUp.Count(up => !up);
    }

    public int ConfiguredWeight { get; }

    /// <summary>The configured weight, or the one misc_dynamic asked for.</summary>
    public int WantedWeight => _wantedWeight;

    public HealthState State => _failedCheckers == 0 ? HealthState.Up : HealthState.Down;

    public int FailedCheckers => _failedCheckers;

    /// <summary>The weight the server has in the table: 0 while inhibited.</summary>
    public int Weight => State == HealthState.Down && _inhibitOnFailure ? 0 : _wantedWeight;

    /// <summary>What the server adds to its virtual service's quorum.</summary>
    public int LiveWeight => State == HealthState.Up ? _wantedWeight : 0;

    public bool IsCheckerUp(int checker) => _checkerUp[checker];

    /// <summary>Applies checker <paramref name="checker"/>'s transition and, for misc_dynamic, the weight it asked for.</summary>
    public RealServerChange Apply(int checker, bool? transition, int? dynamicWeight)
    {
        var oldState = State;
        var oldWeight = Weight;
        if (transition is { } up && _checkerUp[checker] != up)
        {
            _checkerUp[checker] = up;
            _failedCheckers += up ? -1 : 1;
        }

        if (dynamicWeight is { } wanted)
        {
            _wantedWeight = wanted;
        }

        var newState = State;
        return new RealServerChange(newState != oldState ? newState : null, oldWeight, Weight);
    }
}
