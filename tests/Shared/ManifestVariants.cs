using System.Text.Json.Nodes;

namespace RnnService.Tests.Shared;

/// <summary>
/// Every field of a manifest broken every way a shared folder can break it: each value (objects, arrays and the first
/// element of each array, recursively) replaced by null, a wrong type, or a number out of any sensible range.
/// </summary>
internal static class ManifestVariants
{
    private static readonly (string Name, Func<JsonNode?> Value)[] Replacements =
    [
        ("null", () => null),
        ("a string", () => JsonValue.Create("x")),
        ("-1", () => JsonValue.Create(-1)),
        ("0", () => JsonValue.Create(0)),
        ("1e300", () => JsonValue.Create(1e300)),
        ("an object", () => new JsonObject()),
        ("an empty array", () => new JsonArray()),
        ("true", () => JsonValue.Create(true)),
    ];

    /// <summary>(where and what, the broken manifest's text) for every path and replacement.</summary>
    public static IEnumerable<(string Description, string Json)> Of(string manifestJson)
    {
        var paths = new List<string>();
        CollectPaths(JsonNode.Parse(manifestJson)!, "$", paths);
        foreach (var path in paths)
        {
            foreach (var (name, value) in Replacements)
            {
                var root = JsonNode.Parse(manifestJson)!;
                Replace(root, path, value());
                yield return ($"{path} = {name}", root.ToJsonString());
            }
        }
    }

    private static void CollectPaths(JsonNode node, string path, List<string> paths)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    var childPath = $"{path}.{name}";
                    paths.Add(childPath);
                    if (child is not null) CollectPaths(child, childPath, paths);
                }
                break;
            case JsonArray { Count: > 0 } array when array[0] is { } first:
                paths.Add(path + "[0]");
                CollectPaths(first, path + "[0]", paths);
                break;
        }
    }

    private static void Replace(JsonNode root, string path, JsonNode? value)
    {
        var parts = path[2..].Replace("[0]", ".[0]", StringComparison.Ordinal).Split('.');
        var node = root;
        foreach (var part in parts[..^1]) node = part == "[0]" ? node[0]! : node[part]!;
        if (parts[^1] == "[0]") node[0] = value;
        else node[parts[^1]] = value;
    }
}
