using System.Text.Json;
using System.Text.RegularExpressions;

namespace Engine.IO;

/// <summary>Reads JSON config files (run configs, study configs) with errors that name the file, the place and the keys allowed there.</summary>
public static partial class JsonConfig
{
    /// <summary>
    /// The options every config file is read and written with: snake_case keys, unknown keys an error, comments and trailing
    /// commas allowed, indented output without null fields.
    /// </summary>
    public static JsonSerializerOptions Options() => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads and parses a config file.</summary>
    /// <exception cref="InvalidDataException">Unreadable file, malformed JSON, or an unknown or mistyped key (named with its path and the keys allowed there).</exception>
    public static T Load<T>(string path, JsonSerializerOptions options, string what)
        where T : class
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read {what}: {e.Message}", e);
        }

        return Parse<T>(text, path, options, what);
    }

    /// <summary>Parses config text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON, or an unknown or mistyped key.</exception>
    public static T Parse<T>(string text, string source, JsonSerializerOptions options, string what)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            return JsonSerializer.Deserialize<T>(text, options) ?? throw new InvalidDataException($"{source}: the {what} is empty (null).");
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } p ? $" at {p}" : "";
            var unknown = UnmappedKey().Match(e.Message);
            if (unknown.Success && typeof(T).Assembly.GetType(unknown.Groups[2].Value) is { } type)
            {
                var keys = type.GetProperties().Where(pr => pr.CanWrite).Select(pr => options.PropertyNamingPolicy?.ConvertName(pr.Name) ?? pr.Name);
                throw new InvalidDataException($"{source}: unknown key '{unknown.Groups[1].Value}'{where} in {what}; allowed keys there: {string.Join(", ", keys)}.", e);
            }

            throw new InvalidDataException($"{source}: invalid {what}{where}: {e.Message}", e);
        }
    }

    [GeneratedRegex("property '([^']*)' could not be mapped to any .NET member contained in type '([^']*)'")]
    private static partial Regex UnmappedKey();
}
