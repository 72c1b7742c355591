namespace LvsEvents.Configuration;

/// <summary>Where a service leaves its pid file for <c>lvsctl reload</c>: <c>Eventing:RunDirectory</c>.</summary>
public sealed class RunDirectoryOptions
{
    // Kept in the Eventing section with the other per-director paths (SpoolDirectory).
    public const string Section = "Eventing";

    public const string DefaultRunDirectory = "/run/lvsevents";

    public string RunDirectory { get; set; } = DefaultRunDirectory;

    /// <summary>The file lvsctl looks for: <c>{RunDirectory}/{service}.pid</c>.</summary>
    public static string PidFilePath(string runDirectory, string service) => Path.Combine(runDirectory, service + ".pid");
}
