using System.Text.Json;
using System.Text.Json.Serialization;

namespace Engine.IO;

/// <summary>The one way analysis results are written as JSON: indented, and every NaN or ±Inf written as <c>null</c>.</summary>
/// <remarks>
/// JSON has no NaN or infinity; System.Text.Json throws on them by default, which used to lose a whole result because one
/// network diverged. <see cref="Options"/> carries converters for <see cref="double"/> and <see cref="float"/> (and so for
/// their nullable forms and arrays) that write a non-finite value as <c>null</c>; readers see "no value" for that network.
/// </remarks>
public static class JsonOutput
{
    /// <summary>Indented output; non-finite floating-point values written as <c>null</c>.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        Converters = { new FiniteDoubleConverter(), new FiniteSingleConverter() },
    };

    /// <summary>Serializes <paramref name="value"/> with <see cref="Options"/>.</summary>
    public static string Serialize(object value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Serializes <paramref name="value"/> with <see cref="Options"/> and writes it through <see cref="AtomicFile"/>.</summary>
    public static void Write(string path, object value) => AtomicFile.WriteText(path, Serialize(value));

    /// <summary>The value, or null when it is NaN or ±Inf (for fields typed <c>double?</c>).</summary>
    public static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>Writes a double as a number, or <c>null</c> when NaN or ±Inf; reads numbers and <c>null</c> (as NaN).</summary>
    public sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        /// <inheritdoc/>
        public override bool HandleNull => true;

        /// <inheritdoc/>
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        /// <inheritdoc/>
        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            ArgumentNullException.ThrowIfNull(writer);
            if (double.IsFinite(value))
            {
                writer.WriteNumberValue(value);
            }
            else
            {
                writer.WriteNullValue();
            }
        }
    }

    /// <summary>Writes a float as a number, or <c>null</c> when NaN or ±Inf; reads numbers and <c>null</c> (as NaN).</summary>
    public sealed class FiniteSingleConverter : JsonConverter<float>
    {
        /// <inheritdoc/>
        public override bool HandleNull => true;

        /// <inheritdoc/>
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => reader.TokenType == JsonTokenType.Null ? float.NaN : reader.GetSingle();

        /// <inheritdoc/>
        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            ArgumentNullException.ThrowIfNull(writer);
            if (float.IsFinite(value))
            {
                writer.WriteNumberValue(value);
            }
            else
            {
                writer.WriteNullValue();
            }
        }
    }
}
