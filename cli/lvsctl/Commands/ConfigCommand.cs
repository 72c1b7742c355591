using LvsEvents.Keepalived;
using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Output;

namespace LvsEvents.Lvsctl.Commands;

/// <summary><c>lvsctl config check|show|bench</c>: keepalived.conf validation, normalized view and parser benchmark.</summary>
public sealed class ConfigCommand : ICommandGroup
{
    public string Name => "config";

    public IReadOnlyList<string> Usage { get; } =
    [
        "lvsctl config check FILE [--config-id ID] [--strict]",
        "lvsctl config show FILE [--json] [--config-id ID]",
        "lvsctl config bench [--real-servers N]",
    ];

    public int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        if (arguments.Count == 0)
        {
            return UsageError(error);
        }

        return arguments[0] switch
        {
            "check" => Check(arguments.Skip(1).ToList(), output, error),
            "show" => Show(arguments.Skip(1).ToList(), output, error),
            "bench" => Bench(arguments.Skip(1).ToList(), output, error),
            _ => UsageError(error),
        };
    }

    private int Check(List<string> arguments, TextWriter output, TextWriter error)
    {
        if (!TryParseFileOptions(arguments, allowJson: false, allowStrict: true, out var file, out var options, out _, out var strict))
        {
            return UsageError(error);
        }

        var result = ConfigurationParser.ParseFile(file, options);
        foreach (var diagnostic in result.Diagnostics)
        {
            error.WriteLine(diagnostic.ToString());
        }

        var errors = result.Errors.Count();
        var warnings = result.Warnings.Count();
        var name = Path.GetFileName(file);

        // --strict fails on warnings too, as keepalived --config-test does.
        if (errors > 0 || (strict && warnings > 0))
        {
            error.WriteLine($"{name}: invalid — {Plural(errors, "error")}, {Plural(warnings, "warning")}");
            return 1;
        }

        output.WriteLine($"{name}: valid — {Summary(result.Configuration)}{(warnings > 0 ? $" ({Plural(warnings, "warning")})" : string.Empty)}");
        return 0;
    }

    private int Show(List<string> arguments, TextWriter output, TextWriter error)
    {
        if (!TryParseFileOptions(arguments, allowJson: true, allowStrict: false, out var file, out var options, out var json, out _))
        {
            return UsageError(error);
        }

        var result = ConfigurationParser.ParseFile(file, options);
        foreach (var diagnostic in result.Diagnostics)
        {
            error.WriteLine(diagnostic.ToString());
        }

        if (result.HasErrors)
        {
            error.WriteLine($"{Path.GetFileName(file)}: invalid — {Plural(result.Errors.Count(), "error")}; nothing to show");
            return 1;
        }

        output.Write(json ? ConfigurationJson.Serialize(result.Configuration) + "\n" : ConfigurationTextRenderer.Render(result.Configuration));
        return 0;
    }

    private int Bench(List<string> arguments, TextWriter output, TextWriter error)
    {
        var realServers = 10_000;
        if (arguments.Count == 2 && arguments[0] == "--real-servers" && int.TryParse(arguments[1], out var n) && n > 0 && n <= 1_000_000)
        {
            realServers = n;
        }
        else if (arguments.Count != 0)
        {
            return UsageError(error);
        }

        return KeepalivedParserBenchmark.Run(realServers, output);
    }

    private static bool TryParseFileOptions(
        List<string> arguments,
        bool allowJson,
        bool allowStrict,
        out string file,
        out ParserOptions options,
        out bool json,
        out bool strict)
    {
        file = string.Empty;
        options = new ParserOptions();
        json = false;
        strict = false;
        for (var i = 0; i < arguments.Count; i++)
        {
            switch (arguments[i])
            {
                case "--json" when allowJson:
                    json = true;
                    break;
                case "--strict" when allowStrict:
                    strict = true;
                    break;
                case "--config-id" when i + 1 < arguments.Count:
                    options = options with { ConfigId = arguments[++i] };
                    break;
                default:
                    if (arguments[i].StartsWith('-') || file.Length > 0)
                    {
                        return false;
                    }

                    file = arguments[i];
                    break;
            }
        }

        return file.Length > 0;
    }

    private int UsageError(TextWriter error)
    {
        foreach (var line in Usage)
        {
            error.WriteLine($"usage: {line}");
        }

        return 2;
    }

    private static string Summary(KeepalivedConfiguration configuration)
    {
        var parts = new List<string>
        {
            Plural(configuration.VrrpInstances.Count, "vrrp_instance"),
            Plural(configuration.VirtualServers.Count, "virtual_server"),
            Plural(configuration.RealServerCount, "real_server"),
            Plural(configuration.VrrpScripts.Count, "vrrp_script"),
        };
        if (configuration.VrrpSyncGroups.Count > 0)
        {
            parts.Add(Plural(configuration.VrrpSyncGroups.Count, "vrrp_sync_group"));
        }

        if (configuration.VirtualServerGroups.Count > 0)
        {
            parts.Add(Plural(configuration.VirtualServerGroups.Count, "virtual_server_group"));
        }

        return string.Join(", ", parts);
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";
}
