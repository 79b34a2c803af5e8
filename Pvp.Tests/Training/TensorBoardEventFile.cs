using Tensorboard;

namespace Pvp.Tests.Training;

/// <summary>
/// Reads a TensorBoard event file as TensorBoard's own reader does (tensorflow/core/lib/io/record_reader.cc): each record
/// is a little-endian uint64 length, the masked CRC-32C of those 8 bytes, the data (a serialized <c>Event</c>), the
/// masked CRC-32C of the data; mask(c) = ((c &gt;&gt; 15) | (c &lt;&lt; 17)) + 0xa282ead8. Both CRCs are checked with a
/// CRC-32C written here (not TorchSharp's), so a wrong framing fails the test.
/// </summary>
internal static class TensorBoardEventFile
{
    public static List<Event> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        int at = 0;
        while (at < bytes.Length)
        {
            if (bytes.Length - at < 12) throw new InvalidDataException($"{path}: {bytes.Length - at} stray bytes at {at}");
            ulong length = BitConverter.ToUInt64(bytes, at);
            uint lengthCrc = BitConverter.ToUInt32(bytes, at + 8);
            if (Masked(Crc32C(bytes.AsSpan(at, 8))) != lengthCrc) throw new InvalidDataException($"{path}: bad length CRC at {at}");
            if ((ulong)(bytes.Length - at - 16) < length) throw new InvalidDataException($"{path}: record at {at} runs past the end");
            var data = bytes.AsSpan(at + 12, (int)length);
            uint dataCrc = BitConverter.ToUInt32(bytes, at + 12 + (int)length);
            if (Masked(Crc32C(data)) != dataCrc) throw new InvalidDataException($"{path}: bad data CRC at {at}");
            events.Add(Event.Parser.ParseFrom(data.ToArray()));
            at += 16 + (int)length;
        }
        return events;
    }

    /// <summary>The scalars of <paramref name="tag"/> as (step, value), in file order.</summary>
    public static List<(long Step, float Value)> Scalars(IEnumerable<Event> events, string tag) =>
        events.Where(e => e.Summary is not null)
            .SelectMany(e => e.Summary.Value.Where(v => v.Tag == tag && v.ValueCase == Summary.Types.Value.ValueOneofCase.SimpleValue)
                .Select(v => (e.Step, v.SimpleValue)))
            .ToList();

    /// <summary>The text summaries of <paramref name="tag"/> (TensorBoard's text plugin: tag + "/text_summary", a string tensor).</summary>
    public static List<string> Texts(IEnumerable<Event> events, string tag) =>
        events.Where(e => e.Summary is not null)
            .SelectMany(e => e.Summary.Value.Where(v => v.Tag == tag + "/text_summary" && v.Metadata?.PluginData?.PluginName == "text")
                .Select(v => v.Tensor.StringVal[0].ToStringUtf8()))
            .ToList();

    public static uint Masked(uint crc) => ((crc >> 15) | (crc << 17)) + 0xa282ead8u;

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}
