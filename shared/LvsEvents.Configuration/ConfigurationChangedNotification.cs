using LvsEvents.Contracts;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.Configuration;

/// <summary>
/// What a reload changed, for the parts of a service to apply: each looks at the objects it owns in
/// <see cref="Changes"/> (or compares <see cref="Previous"/> and <see cref="Current"/>) and keeps its state for the rest.
/// </summary>
public sealed record ConfigurationChangedNotification(
    LoadedConfiguration Previous,
    LoadedConfiguration Current,
    IReadOnlyList<ConfigurationChange> Changes);
