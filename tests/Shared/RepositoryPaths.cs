namespace RnnService.Tests.Shared;

/// <summary>Folders of this repository, found from the test binaries' location.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();
    public static string Data => Path.Combine(Root, "data", "names");
    public static string Models => Path.Combine(Root, "models");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RnnService.sln"))) return directory.FullName;
        }
        throw new DirectoryNotFoundException("RnnService.sln not found above " + AppContext.BaseDirectory);
    }
}
