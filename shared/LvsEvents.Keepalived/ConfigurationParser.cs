using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Reading;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived;

/// <summary>
/// Reads a keepalived.conf (keepalived 2.2 syntax) into a <see cref="KeepalivedConfiguration"/> and located
/// diagnostics. Never throws on bad input: every problem, including missing or unreadable files, is a diagnostic.
/// </summary>
public static class ConfigurationParser
{
    /// <summary>Prefix of the diagnostic reported if the parser itself fails; tests assert it never appears.</summary>
    public const string InternalErrorPrefix = "internal parser error";

    private static readonly HashSet<string> PassThroughTopLevel = new(StringComparer.Ordinal)
    {
        "SSL", "linkbeat_interfaces", "static_ipaddress", "static_routes", "static_rules", "static_track_group",
        "track_file", "vrrp_track_file", "vrrp_track_process", "bfd_instance", "garp_group", "interface_up_down_delays",
        "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir",
        "linkbeat_use_polling", "child_wait_time",
    };

    public static ConfigurationParseResult ParseFile(string path, ParserOptions? options = null)
    {
        options ??= new ParserOptions();
        var diagnostics = new DiagnosticBag();
        var files = new List<string>();
        KeepalivedConfiguration configuration;
        try
        {
            var preprocessor = new ConfigurationPreprocessor(options, diagnostics);
            var lines = preprocessor.Run(path);
            files.AddRange(preprocessor.FilesRead);
            var tokens = KeepalivedLexer.Tokenize(lines, diagnostics);
            var tree = ConfigurationTreeParser.Parse(tokens, diagnostics);
            configuration = BuildModel(tree, diagnostics);
            ConfigurationValidator.Validate(configuration, diagnostics);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Defence in depth: a parser bug must still come out as a located message, not a stack trace.
            configuration = new KeepalivedConfiguration();
            diagnostics.Error(new SourceLocation(path, 1, 1), $"{InternalErrorPrefix}: {e.GetType().Name}: {e.Message}");
        }

        return new ConfigurationParseResult(configuration, diagnostics.Items, files);
    }

    /// <summary>Parses text as if it were the file <paramref name="path"/>; includes resolve through the options' file system.</summary>
    public static ConfigurationParseResult ParseText(string text, string path = "/etc/keepalived/keepalived.conf", ParserOptions? options = null)
    {
        options ??= new ParserOptions();
        var full = Path.GetFullPath(path);
        return ParseFile(full, options with { FileSystem = new SingleFileOverlay(full, text, options.FileSystem) });
    }

    private static KeepalivedConfiguration BuildModel(IReadOnlyList<ConfigurationNode> tree, DiagnosticBag diagnostics)
    {
        var values = new StatementValues(diagnostics);

        // global_defs first: vrrp_instance defaults (version, GARP, strict mode) come from it wherever it is written.
        var globals = new GlobalDefinitions();
        var globalsReader = new GlobalDefinitionsReader(values);
        foreach (var node in tree.Where(n => n.Keyword == "global_defs"))
        {
            values.ExpectBlock(node);
            globals = globalsReader.Read(node, globals);
        }

        var scripts = new List<VrrpScript>();
        var syncGroups = new List<VrrpSyncGroup>();
        var instances = new List<VrrpInstance>();
        var serverGroups = new List<VirtualServerGroup>();
        var servers = new List<VirtualServer>();
        var other = new List<PassThroughSetting>();
        var scriptReader = new VrrpScriptReader(values);
        var instanceReader = new VrrpInstanceReader(values);
        var syncGroupReader = new VrrpSyncGroupReader(values);
        var serverGroupReader = new VirtualServerGroupReader(values);
        var serverReader = new VirtualServerReader(values);
        foreach (var node in tree)
        {
            switch (node.Keyword)
            {
                case "global_defs":
                    break;
                case "vrrp_script":
                    if (NamedBlock(node, values) is { } scriptName)
                    {
                        scripts.Add(scriptReader.Read(node, scriptName));
                    }

                    break;
                case "vrrp_instance":
                    if (NamedBlock(node, values) is { } instanceName)
                    {
                        instances.Add(instanceReader.Read(node, instanceName, globals));
                    }

                    break;
                case "vrrp_sync_group":
                    if (NamedBlock(node, values) is { } groupName)
                    {
                        syncGroups.Add(syncGroupReader.Read(node, groupName));
                    }

                    break;
                case "virtual_server_group":
                    if (NamedBlock(node, values) is { } serverGroupName)
                    {
                        serverGroups.Add(serverGroupReader.Read(node, serverGroupName));
                    }

                    break;
                case "virtual_server":
                    if (serverReader.Read(node) is { } server)
                    {
                        servers.Add(server);
                    }

                    break;
                case "real_server":
                    diagnostics.Error(node.Location, "real_server outside any virtual_server");
                    break;
                default:
                    if (HealthCheckerReader.CheckerKeywords.Contains(node.Keyword) || node.Keyword == "url")
                    {
                        diagnostics.Error(node.Location, $"{node.Keyword} outside any real_server");
                    }
                    else if (PassThroughTopLevel.Contains(node.Keyword))
                    {
                        other.Add(StatementValues.PassThrough(node));
                    }
                    else
                    {
                        values.UnknownKeyword(node, "the top level");
                    }

                    break;
            }
        }

        return new KeepalivedConfiguration
        {
            GlobalDefinitions = globals,
            VrrpScripts = scripts,
            VrrpSyncGroups = syncGroups,
            VrrpInstances = instances,
            VirtualServerGroups = serverGroups,
            VirtualServers = servers,
            OtherSettings = other,
        };
    }

    private static string? NamedBlock(ConfigurationNode node, StatementValues values)
    {
        values.ExpectBlock(node);
        var name = values.Argument(node);
        values.ExtraArguments(node, 1);
        return name?.Text;
    }

    /// <summary>Serves one in-memory file and delegates everything else (included files) to another file system.</summary>
    private sealed class SingleFileOverlay(string path, string text, IConfigurationFileSystem inner) : IConfigurationFileSystem
    {
        public string? TryReadAllText(string file, out string? failure)
        {
            if (file == path)
            {
                failure = null;
                return text;
            }

            return inner.TryReadAllText(file, out failure);
        }

        public bool DirectoryExists(string directory) => inner.DirectoryExists(directory);

        public bool FileExists(string file) => file == path || inner.FileExists(file);

        public IReadOnlyList<string> ListEntries(string directory) => inner.ListEntries(directory);
    }
}
