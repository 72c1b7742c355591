using System.Buffers.Binary;

namespace LvsEvents.Eventing.Spool;

/// <summary>
/// The highest sequence the broker has confirmed. Written by rename without fsync: losing the newest value
/// in a power cut only re-publishes events the store already has, and the recorder keeps one per id.
/// </summary>
internal sealed class SpoolAcknowledgement(string directory)
{
    private readonly string _path = Path.Combine(directory, "acked");
    private readonly string _temporary = Path.Combine(directory, "acked.tmp");

    public long Read()
    {
        try
        {
            var bytes = File.ReadAllBytes(_path);
            return bytes.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(bytes) : 0;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    public void Write(long sequence)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, sequence);
        File.WriteAllBytes(_temporary, bytes);
        File.Move(_temporary, _path, overwrite: true);
    }
}
