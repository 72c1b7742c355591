using LvsEvents.Keepalived;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.Configuration;

/// <summary>A keepalived.conf that was read without errors: the typed model, its hash and any warnings.</summary>
/// <param name="File">The main file, as a full path.</param>
/// <param name="Hash">See <see cref="ConfigurationHash"/>.</param>
public sealed record LoadedConfiguration(
    string File,
    KeepalivedConfiguration Model,
    string Hash,
    IReadOnlyList<Diagnostic> Warnings);
