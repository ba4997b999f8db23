using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Weft.Core.IO;
using Weft.Search.Vectors;

namespace Weft.Search.Hnsw;

public sealed unsafe partial class HnswIndex
{
    /// <summary>Version of the file format written by <see cref="Save"/>.</summary>
    public const int FileVersion = 1;

    private const ulong FileMagic = 0x57534E4854464557; // "WEFTHNSW" little-endian
    private const int FixedHeaderBytes = 8 + 4 * 17;
    private const int SectionEntryBytes = 4 + 8 + 8 + 4;

    private enum Section : uint
    {
        Level0 = 1,
        Labels = 2,
        Levels = 3,
        Deleted = 4,
        Upper = 5,
        Exact = 6,
    }

    /// <summary>Test hook: when non-negative, <see cref="Save"/> fails with an <see cref="IOException"/> after writing that many bytes.</summary>
    internal long FailSaveAfterBytes { get; set; } = -1;

    /// <summary>
    /// Saves the index to <paramref name="path"/> atomically: the file is written beside the target under a temporary
    /// name, flushed to disk, then renamed over the target, so a crash at any point leaves the previous file intact.
    /// </summary>
    /// <remarks>
    /// Layout: a skippable LZ4 frame holding the header (magic, version, parameters, counts, per-section lengths and
    /// CRC-32s, header CRC-32), then one LZ4 frame per section (level-0 blocks, labels, levels, deleted flags,
    /// upper links, float copy). <c>lz4 -d</c> decodes the file to the concatenated raw sections. Searches and adds
    /// wait while the index is saved.
    /// </remarks>
    /// <exception cref="IOException">Writing failed; the previous file at <paramref name="path"/>, if any, is unchanged.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ThrowIfDisposed();
        string full = Path.GetFullPath(path);
        string tmp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + ".tmp-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        _rw.EnterWriteLock();
        try
        {
            var frames = new List<(Section Id, long Raw, byte[] Frame)>();
            int n = _count;
            frames.Add(Pack(Section.Level0, _level0, (long)n * _blockSize));
            fixed (long* p = _labels)
            {
                frames.Add(Pack(Section.Labels, (byte*)p, n * 8L));
            }
            fixed (int* p = _levels)
            {
                frames.Add(Pack(Section.Levels, (byte*)p, n * 4L));
            }
            fixed (byte* p = _deleted)
            {
                frames.Add(Pack(Section.Deleted, p, n));
            }
            int stride = _m + 1;
            long upperInts = 0;
            for (int i = 0; i < n; i++)
            {
                upperInts += (long)_levels[i] * stride;
            }
            int* upper = (int*)NativeMemory.Alloc((nuint)Math.Max(1, upperInts), sizeof(int));
            try
            {
                long pos = 0;
                for (int i = 0; i < n; i++)
                {
                    long len = (long)_levels[i] * stride;
                    if (len > 0)
                    {
                        Buffer.MemoryCopy((void*)_upper[i], upper + pos, len * 4, len * 4);
                        pos += len;
                    }
                }
                frames.Add(Pack(Section.Upper, (byte*)upper, upperInts * 4));
            }
            finally
            {
                NativeMemory.Free(upper);
            }
            if (_exact != null)
            {
                frames.Add(Pack(Section.Exact, (byte*)_exact, (long)n * _dim * 4));
            }

            byte[] header = BuildHeader(frames);
            try
            {
                using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
                {
                    Stream s = FailSaveAfterBytes >= 0 ? new FailingStream(fs, FailSaveAfterBytes) : fs;
                    Span<byte> skip = stackalloc byte[8];
                    Lz4Frame.WriteSkippableFrameHeader(skip, 0, (uint)header.Length);
                    s.Write(skip);
                    s.Write(header);
                    foreach ((Section _, long _, byte[] frame) in frames)
                    {
                        s.Write(frame);
                    }
                    s.Flush();
                    fs.Flush(flushToDisk: true);
                }
                File.Move(tmp, full, overwrite: true);
            }
            catch
            {
                TryDelete(tmp);
                throw;
            }
        }
        finally
        {
            _rw.ExitWriteLock();
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static (Section, long, byte[]) Pack(Section id, byte* data, long length) =>
        (id, length, Lz4Frame.Compress(data, length, 1));

    private byte[] BuildHeader(List<(Section Id, long Raw, byte[] Frame)> frames)
    {
        byte[] h = new byte[FixedHeaderBytes + frames.Count * SectionEntryBytes + 4];
        Span<byte> w = h;
        (int ep, int maxLevel) = ReadEntry();
        BinaryPrimitives.WriteUInt64LittleEndian(w, FileMagic);
        int[] fields =
        [
            FileVersion, h.Length, _dim, (int)_metric, (int)_storage, _m, _efConstruction, _ef, _seed,
            _count, _capacity, _deletedCount, ep, maxLevel, _blockSize, frames.Count, 0,
        ];
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(w[(8 + 4 * i)..], fields[i]);
        }
        int off = FixedHeaderBytes;
        foreach ((Section id, long raw, byte[] frame) in frames)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(w[off..], (uint)id);
            BinaryPrimitives.WriteInt64LittleEndian(w[(off + 4)..], raw);
            BinaryPrimitives.WriteInt64LittleEndian(w[(off + 12)..], frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(w[(off + 20)..], Crc32.Compute(frame));
            off += SectionEntryBytes;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(w[off..], Crc32.Compute(h.AsSpan(0, off)));
        return h;
    }

    /// <summary>Loads an index saved by <see cref="Save"/>, reading the file through a memory map.</summary>
    /// <exception cref="HnswFormatException">The file is not an index, is of another version, truncated or corrupt (the message says where).</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static HnswIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8 + FixedHeaderBytes + 4)
        {
            throw new HnswFormatException($"{path}: {fileLength} bytes is too short for an HNSW index file");
        }
        using var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using MemoryMappedViewAccessor view = mmf.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
        byte* basePtr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        try
        {
            byte* p = basePtr + view.PointerOffset;
            return Parse(path, p, fileLength);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private static HnswIndex Parse(string path, byte* p, long fileLength)
    {
        var file = new ReadOnlySpan<byte>(p, (int)Math.Min(fileLength, int.MaxValue));
        uint skipMagic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        uint headerLen = BinaryPrimitives.ReadUInt32LittleEndian(file[4..]);
        if (skipMagic != Lz4Frame.SkippableMagic || BinaryPrimitives.ReadUInt64LittleEndian(file[8..]) != FileMagic)
        {
            throw new HnswFormatException($"{path}: offset 0: not a Weft HNSW index file (magic missing)");
        }
        if (headerLen < FixedHeaderBytes + 4 || 8 + (long)headerLen > fileLength)
        {
            throw new HnswFormatException($"{path}: offset 4: header length {headerLen} does not fit the {fileLength}-byte file (truncated?)");
        }
        ReadOnlySpan<byte> h = file.Slice(8, (int)headerLen);
        byte[] hb = h.ToArray();
        int F(int i) => BinaryPrimitives.ReadInt32LittleEndian(hb.AsSpan(8 + 4 * i));
        int version = F(0);
        if (version != FileVersion)
        {
            throw new HnswFormatException($"{path}: offset 16: file format version {version}, this build reads version {FileVersion}");
        }
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(h[^4..]);
        if (F(1) != headerLen || Crc32.Compute(h[..^4]) != storedCrc)
        {
            throw new HnswFormatException($"{path}: offset 8: header checksum mismatch; the header is corrupt");
        }
        int dim = F(2), metric = F(3), storage = F(4), m = F(5), efc = F(6), ef = F(7), seed = F(8);
        int count = F(9), capacity = F(10), deleted = F(11), ep = F(12), maxLevel = F(13), blockSize = F(14), sections = F(15);
        if (dim < 1 || !Enum.IsDefined((DistanceMetric)metric) || !Enum.IsDefined((VectorStorage)storage) || m < 2 || ef < 1 || efc < 1
            || count < 0 || capacity < count || deleted < 0 || deleted > count || sections < 5 || sections > 6
            || headerLen != FixedHeaderBytes + sections * SectionEntryBytes + 4)
        {
            throw new HnswFormatException($"{path}: header fields are inconsistent (dim {dim}, metric {metric}, storage {storage}, M {m}, count {count}, capacity {capacity}, sections {sections})");
        }
        // LZ4 expands at most ~255:1, so a count the file cannot hold is rejected before anything is allocated.
        if (dim > 65536 || m > 1024 || (long)count * (4L * (1 + 2 * m) + 4L * dim + 16) > 256L * fileLength + (1 << 20))
        {
            throw new HnswFormatException($"{path}: header declares {count} vectors of dimension {dim}, more than a {fileLength}-byte file can hold");
        }
        var index = new HnswIndex(Validate(new HnswOptions
        {
            Dimension = dim, Metric = (DistanceMetric)metric, Storage = (VectorStorage)storage, M = m,
            EfConstruction = efc, Ef = ef, Seed = seed, Capacity = Math.Max(1, count),
        }), 0);
        try
        {
            if (index._blockSize != blockSize)
            {
                throw new HnswFormatException($"{path}: block size {blockSize} does not match {index._blockSize} for these parameters");
            }
            long offset = 8 + headerLen;
            var frames = new Dictionary<Section, (long Offset, long Raw, long Len)>();
            for (int s = 0; s < sections; s++)
            {
                ReadOnlySpan<byte> hs = hb;
                int eo = FixedHeaderBytes + s * SectionEntryBytes;
                var id = (Section)BinaryPrimitives.ReadUInt32LittleEndian(hs[eo..]);
                long raw = BinaryPrimitives.ReadInt64LittleEndian(hs[(eo + 4)..]);
                long len = BinaryPrimitives.ReadInt64LittleEndian(hs[(eo + 12)..]);
                uint crc = BinaryPrimitives.ReadUInt32LittleEndian(hs[(eo + 20)..]);
                if (len < 0 || raw < 0 || offset + len > fileLength)
                {
                    throw new HnswFormatException($"{path}: offset {offset}: section {id} needs {len} bytes but the file ends at {fileLength} (truncated)");
                }
                if (Crc32.Compute(p + offset, len) != crc)
                {
                    throw new HnswFormatException($"{path}: offset {offset}: section {id} checksum mismatch; the file is corrupt");
                }
                if (!frames.TryAdd(id, (offset, raw, len)))
                {
                    throw new HnswFormatException($"{path}: section {id} appears twice");
                }
                offset += len;
            }
            if (offset != fileLength)
            {
                throw new HnswFormatException($"{path}: {fileLength - offset} unexpected bytes after the last section at offset {offset}");
            }

            void Read(Section id, byte* dst, long expected)
            {
                if (!frames.TryGetValue(id, out var f))
                {
                    throw new HnswFormatException($"{path}: section {id} is missing");
                }
                if (f.Raw != expected)
                {
                    throw new HnswFormatException($"{path}: offset {f.Offset}: section {id} holds {f.Raw} bytes, {expected} expected for {count} vectors");
                }
                try
                {
                    Lz4Frame.DecompressInto(p + f.Offset, f.Len, dst, expected);
                }
                catch (Lz4Exception ex)
                {
                    throw new HnswFormatException($"{path}: offset {f.Offset}: section {id}: {ex.Message}", ex);
                }
            }

            Read(Section.Level0, index._level0, (long)count * blockSize);
            fixed (long* lp = index._labels)
            {
                Read(Section.Labels, (byte*)lp, count * 8L);
            }
            fixed (int* lv = index._levels)
            {
                Read(Section.Levels, (byte*)lv, count * 4L);
            }
            fixed (byte* dp = index._deleted)
            {
                Read(Section.Deleted, dp, count);
            }
            int stride = m + 1;
            long upperInts = 0;
            for (int i = 0; i < count; i++)
            {
                int l = index._levels[i];
                if (l < 0 || l > 64 || l > maxLevel)
                {
                    throw new HnswFormatException($"{path}: node {i} has level {l}, outside 0..{maxLevel}");
                }
                upperInts += (long)l * stride;
            }
            int* upper = (int*)NativeMemory.Alloc((nuint)Math.Max(1, upperInts), sizeof(int));
            try
            {
                Read(Section.Upper, (byte*)upper, upperInts * 4);
                long pos = 0;
                for (int i = 0; i < count; i++)
                {
                    int len = index._levels[i] * stride;
                    if (len > 0)
                    {
                        int* u = (int*)NativeMemory.Alloc((nuint)len, sizeof(int));
                        Buffer.MemoryCopy(upper + pos, u, len * 4L, len * 4L);
                        index._upper[i] = (nint)u;
                        pos += len;
                    }
                }
            }
            finally
            {
                NativeMemory.Free(upper);
            }
            if (index._exact != null)
            {
                Read(Section.Exact, (byte*)index._exact, (long)count * dim * 4);
            }
            else if (frames.ContainsKey(Section.Exact))
            {
                throw new HnswFormatException($"{path}: F32 index carries an unexpected float-copy section");
            }

            index._count = count;
            index._deletedCount = deleted;
            index.ValidateGraph(path, ep, maxLevel);
            index._entry = ep < 0 ? -1 : PackEntry(ep, maxLevel);
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>Checks every link and flag of a loaded graph, so a corrupt file cannot send a search out of bounds.</summary>
    private void ValidateGraph(string path, int ep, int maxLevel)
    {
        int n = _count;
        if (n == 0 ? ep != -1 : ep < 0 || ep >= n || _levels[ep] != maxLevel)
        {
            throw new HnswFormatException($"{path}: entry point {ep} (level {maxLevel}) is not a node of the {n}-node graph");
        }
        int deleted = 0;
        for (int i = 0; i < n; i++)
        {
            byte f = _deleted[i];
            if (f > SlotDeleted)
            {
                throw new HnswFormatException($"{path}: node {i} has an invalid deleted flag {f}");
            }
            for (int l = 0; l <= _levels[i]; l++)
            {
                int* ln = Links(i, l);
                int max = l == 0 ? _m0 : _m;
                if (ln[0] < 0 || ln[0] > max)
                {
                    throw new HnswFormatException($"{path}: node {i} level {l} has {ln[0]} links, outside 0..{max}");
                }
                for (int j = 1; j <= ln[0]; j++)
                {
                    int t = ln[j];
                    if (t < 0 || t >= n || _levels[t] < l)
                    {
                        throw new HnswFormatException($"{path}: node {i} level {l} links to {t}, which is not a node of that level");
                    }
                }
            }
            if (f == SlotDeleted)
            {
                deleted++;
                _freeSlots.Push(i);
            }
            else if (!_labelToSlot.TryAdd(_labels[i], i))
            {
                throw new HnswFormatException($"{path}: label {_labels[i]} appears on two live nodes");
            }
        }
        if (deleted != _deletedCount)
        {
            throw new HnswFormatException($"{path}: header counts {_deletedCount} deleted nodes, the flags mark {deleted}");
        }
    }

    /// <summary>Stream wrapper that fails after a byte budget (simulates a crash or a full disk mid-save).</summary>
    private sealed class FailingStream(Stream inner, long budget) : Stream
    {
        private long _left = budget;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int take = (int)Math.Min(buffer.Length, _left);
            inner.Write(buffer[..take]);
            _left -= take;
            if (take < buffer.Length)
            {
                inner.Flush();
                throw new IOException("injected failure while saving the index (test hook)");
            }
        }
    }
}
