using System.Diagnostics;
using Weft.Core.IO;

namespace Weft.Search.Tests;

public sealed class Lz4FrameTests
{
    private static byte[] Sample(int n)
    {
        var rng = new Random(42);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = (byte)(i % 97 < 50 ? i % 7 : rng.Next(256));
        }
        return b;
    }

    [SetUp]
    public void RequireLz4()
    {
        if (!Lz4Frame.IsAvailable)
        {
            Assert.Inconclusive("system liblz4 not installed");
        }
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(1000)]
    [TestCase(5_000_000)]
    public void RoundTrips(int n)
    {
        byte[] data = Sample(n);
        byte[] frame = Lz4Frame.Compress(data);
        Assert.That(BitConverter.ToUInt32(frame, 0), Is.EqualTo(Lz4Frame.FrameMagic));
        Assert.That(Lz4Frame.Decompress(frame, n), Is.EqualTo(data));
    }

    [Test]
    public void CorruptTruncatedOrWrongLengthFramesThrow()
    {
        byte[] data = Sample(100_000);
        byte[] frame = Lz4Frame.Compress(data);
        Assert.Throws<Lz4Exception>(() => Lz4Frame.Decompress(frame.AsSpan(0, frame.Length - 10), data.Length));
        Assert.Throws<Lz4Exception>(() => Lz4Frame.Decompress(frame, data.Length - 1));
        Assert.Throws<Lz4Exception>(() => Lz4Frame.Decompress(frame, data.Length + 1));
        byte[] bad = (byte[])frame.Clone();
        bad[frame.Length / 2] ^= 0x55;
        Assert.Throws<Lz4Exception>(() => Lz4Frame.Decompress(bad, data.Length));
        Assert.Throws<Lz4Exception>(() => Lz4Frame.Decompress(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, 4));
    }

    [Test]
    public void TheLz4ToolDecodesOurFramesAndSkipsSkippableFrames()
    {
        string tool = File.Exists("/usr/bin/lz4") ? "/usr/bin/lz4" : "";
        if (tool.Length == 0)
        {
            Assert.Inconclusive("lz4 command-line tool not installed");
        }
        byte[] a = Sample(70_000), b = Sample(1234);
        string dir = Directory.CreateTempSubdirectory("weft-lz4").FullName;
        try
        {
            string file = Path.Combine(dir, "x.lz4");
            using (var fs = File.Create(file))
            {
                byte[] skip = new byte[8];
                Lz4Frame.WriteSkippableFrameHeader(skip, 0, 5);
                fs.Write(skip);
                fs.Write("HELLO"u8);
                fs.Write(Lz4Frame.Compress(a));
                fs.Write(Lz4Frame.Compress(b, 9));
            }
            var psi = new ProcessStartInfo(tool, ["-d", "-c", file]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            p.WaitForExit();
            Assert.That(p.ExitCode, Is.EqualTo(0), p.StandardError.ReadToEnd());
            Assert.That(ms.ToArray(), Is.EqualTo(a.Concat(b).ToArray()));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
