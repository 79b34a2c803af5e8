namespace Pvp.Generators.Model;

/// <summary>Reads an attribute constant as the type a declaration holds it in.</summary>
internal static class ConstantValue
{
    /// <summary>
    /// <paramref name="value"/> as a <typeparamref name="T"/>: itself when it is one, or an enum member from its
    /// number (Roslyn hands enum constants over as their underlying <c>int</c>).
    /// </summary>
    public static bool TryAs<T>(object? value, out T result)
    {
        switch (value)
        {
            case T exact:
                result = exact;
                return true;
            case int number when typeof(T).IsEnum:
                result = (T)System.Enum.ToObject(typeof(T), number);
                return true;
            default:
                result = default!;
                return false;
        }
    }
}
