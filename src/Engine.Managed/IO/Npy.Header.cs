using System.Globalization;
using System.Text;

namespace Engine.IO;

/// <summary>The .npy header: a Python dict literal such as <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>.</summary>
public static partial class Npy
{
    /// <summary>A Python list or tuple in the header.</summary>
    private sealed record PySequence(List<object?> Items, bool IsTuple);

    /// <summary>The three keys numpy writes, checked and typed.</summary>
    private readonly record struct Header(NpyDtype Dtype, bool FortranOrder, int[] Shape);

    private static Header ParseHeader(string text, string source)
    {
        string shown = text.TrimEnd();
        object? value;
        try
        {
            var parser = new LiteralParser(text);
            value = parser.Value();
            parser.End();
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{source}: the header is not a Python literal ({e.Message}): {shown}", e);
        }

        if (value is not Dictionary<string, object?> dict)
        {
            throw new InvalidDataException($"{source}: the header is not a dict, expected {{'descr': ..., 'fortran_order': ..., 'shape': ...}}, found {shown}");
        }

        foreach (string key in new[] { "descr", "fortran_order", "shape" })
        {
            if (!dict.ContainsKey(key))
            {
                throw new InvalidDataException($"{source}: the header has no '{key}' key: {shown}");
            }
        }

        NpyDtype dtype = dict["descr"] switch
        {
            string descr => NpyDtype.Parse(descr, out string why)
                ?? throw new InvalidDataException($"{source}: unsupported dtype '{descr}' ({why}); {Readable}."),
            PySequence => throw new InvalidDataException($"{source}: unsupported dtype: a structured array (descr {Literal(dict["descr"])}); {Readable}."),
            var other => throw new InvalidDataException($"{source}: 'descr' is {Literal(other)}, expected a dtype string such as '<f4'."),
        };
        if (dict["fortran_order"] is not bool fortran)
        {
            throw new InvalidDataException($"{source}: 'fortran_order' is {Literal(dict["fortran_order"])}, expected True or False.");
        }

        if (dict["shape"] is not PySequence { Items: var dims } || dims.Any(d => d is not long))
        {
            throw new InvalidDataException($"{source}: 'shape' is {Literal(dict["shape"])}, expected a tuple of integers.");
        }

        var shape = new int[dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            long d = (long)dims[i]!;
            if (d < 0 || d > Array.MaxLength)
            {
                throw new InvalidDataException($"{source}: dimension {i} of the shape is {d}, expected 0 to {Array.MaxLength}.");
            }

            shape[i] = (int)d;
        }

        return new Header(dtype, fortran, shape);
    }

    private const string Readable = "readable: bool (b1), int8–int64 (i1–i8), uint8–uint64 (u1–u8), float16/32/64 (f2/f4/f8), either byte order";

    private static string Literal(object? v) => v switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => $"'{s}'",
        long n => n.ToString(CultureInfo.InvariantCulture),
        PySequence q => (q.IsTuple ? "(" : "[") + string.Join(", ", q.Items.Select(Literal)) + (q.IsTuple ? ")" : "]"),
        Dictionary<string, object?> d => "{" + string.Join(", ", d.Select(kv => $"'{kv.Key}': {Literal(kv.Value)}")) + "}",
        _ => v.ToString() ?? "",
    };

    /// <summary>Python literals as numpy writes them: dicts with string keys, strings, integers, True/False/None, tuples and lists.</summary>
    private sealed class LiteralParser(string text)
    {
        private int _at;

        public object? Value()
        {
            Skip();
            if (_at >= text.Length)
            {
                throw Error("unexpected end");
            }

            char c = text[_at];
            return c switch
            {
                '{' => Dict(),
                '(' => Sequence(')', true),
                '[' => Sequence(']', false),
                '\'' or '"' => Str(),
                _ when c is '-' or '+' || char.IsAsciiDigit(c) => Int(),
                _ when char.IsAsciiLetter(c) => Word(),
                _ => throw Error($"unexpected '{c}'"),
            };
        }

        public void End()
        {
            Skip();
            if (_at < text.Length)
            {
                throw Error($"unexpected '{text[_at]}' after the value");
            }
        }

        private Dictionary<string, object?> Dict()
        {
            var d = new Dictionary<string, object?>(StringComparer.Ordinal);
            _at++;
            while (true)
            {
                Skip();
                if (Eat('}'))
                {
                    return d;
                }

                if (Value() is not string key)
                {
                    throw Error("a dict key that is not a string");
                }

                Skip();
                Expect(':');
                d[key] = Value();
                Skip();
                if (!Eat(','))
                {
                    Skip();
                    Expect('}');
                    return d;
                }
            }
        }

        private PySequence Sequence(char close, bool tuple)
        {
            var items = new List<object?>();
            _at++;
            while (true)
            {
                Skip();
                if (Eat(close))
                {
                    return new PySequence(items, tuple);
                }

                items.Add(Value());
                Skip();
                if (!Eat(','))
                {
                    Skip();
                    Expect(close);
                    return new PySequence(items, tuple);
                }
            }
        }

        private string Str()
        {
            char quote = text[_at++];
            var sb = new StringBuilder();
            while (_at < text.Length && text[_at] != quote)
            {
                if (text[_at] == '\\' && _at + 1 < text.Length)
                {
                    _at++;
                }

                sb.Append(text[_at++]);
            }

            Expect(quote);
            return sb.ToString();
        }

        private long Int()
        {
            int start = _at;
            if (text[_at] is '-' or '+')
            {
                _at++;
            }

            while (_at < text.Length && char.IsAsciiDigit(text[_at]))
            {
                _at++;
            }

            if (!long.TryParse(text.AsSpan(start, _at - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            {
                throw Error($"'{text[start.._at]}' is not an integer");
            }

            if (_at < text.Length && text[_at] is 'L' or 'l')
            {
                _at++; // Python 2 long, as old numpy wrote shapes
            }

            return n;
        }

        private object? Word()
        {
            int start = _at;
            while (_at < text.Length && char.IsAsciiLetterOrDigit(text[_at]))
            {
                _at++;
            }

            return text[start.._at] switch
            {
                "True" => true,
                "False" => false,
                "None" => null,
                var w => throw Error($"unknown name '{w}'"),
            };
        }

        private void Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }
        }

        private bool Eat(char c)
        {
            if (_at < text.Length && text[_at] == c)
            {
                _at++;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            if (!Eat(c))
            {
                throw Error(_at < text.Length ? $"expected '{c}', found '{text[_at]}'" : $"expected '{c}', found the end");
            }
        }

        private FormatException Error(string why) => new($"{why} at column {_at + 1}");
    }
}
