namespace LvsEvents.TestInfrastructure;

/// <summary>The checkout the tests run from (the folder holding LvsEvents.sln).</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "LvsEvents.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"LvsEvents.sln not found above {AppContext.BaseDirectory}");
    }
}
