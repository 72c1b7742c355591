namespace LvsEvents.Keepalived.Tests;

/// <summary>Paths of the data files copied next to the test assembly.</summary>
internal static class TestFiles
{
    public static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    public static string CorpusDirectory => Path.Combine(AppContext.BaseDirectory, "Corpus");

    /// <summary>Parses in-memory files rooted at /cfg with config id lb1.</summary>
    public static ConfigurationParseResult ParseInMemory(string main, params (string Path, string Text)[] others)
    {
        var files = others.ToDictionary(f => "/cfg/" + f.Path, f => f.Text);
        files["/cfg/keepalived.conf"] = main;
        return ConfigurationParser.ParseFile("/cfg/keepalived.conf", new ParserOptions { ConfigId = "lb1", FileSystem = new InMemoryFileSystem(files) });
    }
}
