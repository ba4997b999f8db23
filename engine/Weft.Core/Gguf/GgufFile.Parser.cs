using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Weft.Core.Gguf;

public sealed unsafe partial class GgufFile
{
    /// <summary>
    /// Reads the header, metadata and tensor table from <c>length</c> bytes at <c>basePtr</c>. Every count is checked
    /// against the bytes left before anything is allocated, so a corrupt count fails fast instead of allocating
    /// gigabytes; nesting depth is bounded so a crafted file cannot overflow the stack.
    /// </summary>
    private sealed class Parser(byte* basePtr, long length, string file)
    {
        // Smallest encodings, used to bound counts by the bytes left: a KV is a u64 key length, a u32 type and at
        // least one byte of value; a tensor info is a u64 name length, u32 n_dims, u32 type and u64 offset.
        private const long MinKvBytes = 8 + 4 + 1;
        private const long MinTensorInfoBytes = 8 + 4 + 4 + 8;
        private const long MinArrayBytes = 4 + 8;

        private long _pos;

        public uint Version;
        public readonly List<string> Keys = new();
        public readonly Dictionary<string, GgufValue> Metadata = new(StringComparer.Ordinal);
        public readonly List<GgufTensorInfo> Tensors = new();
        public readonly Dictionary<string, GgufTensorInfo> TensorsByName = new(StringComparer.Ordinal);
        public int Alignment = DefaultAlignment;
        public long DataOffset;

        private long Remaining => length - _pos;

        private GgufFormatException Error(string field, long offset, string problem) => new(file, field, offset, problem);

        private void Need(long bytes, string field)
        {
            if (bytes > Remaining)
            {
                throw Error(field, _pos, $"needs {bytes} bytes but the file ends at byte {length} (truncated file)");
            }
        }

        private T Read<T>(string field) where T : unmanaged
        {
            Need(sizeof(T), field);
            T v = Unsafe.ReadUnaligned<T>(basePtr + _pos);
            _pos += sizeof(T);
            return v;
        }

        private uint U32(string field) => Read<uint>(field);

        private ulong U64(string field) => Read<ulong>(field);

        private string ReadString(string field, long index = -1)
        {
            long at = _pos;
            if (Remaining < 8)
            {
                throw Error(Indexed(field, index) + " length", at, $"needs 8 bytes but the file ends at byte {length} (truncated file)");
            }
            ulong n = Unsafe.ReadUnaligned<ulong>(basePtr + _pos);
            _pos += 8;
            if (n > (ulong)Remaining)
            {
                throw Error(Indexed(field, index), at, $"string length {n} runs past the end of the file ({Remaining} bytes left)");
            }
            if (n > int.MaxValue)
            {
                throw Error(Indexed(field, index), at, $"string length {n} is larger than 2 GiB");
            }
            string s = Encoding.UTF8.GetString(basePtr + _pos, (int)n);
            _pos += (long)n;
            return s;
        }

        private static string Indexed(string field, long index) => index >= 0 ? $"{field}[{index}]" : field;

        public void Run()
        {
            if (length < 4)
            {
                throw Error("header.magic", 0, length == 0 ? "the file is empty" : $"the file is only {length} bytes (truncated file)");
            }
            uint magic = U32("header.magic");
            if (magic != Magic)
            {
                string found = $"{basePtr[0]:x2} {basePtr[1]:x2} {basePtr[2]:x2} {basePtr[3]:x2}";
                string hint = magic is 0x67676d6c or 0x67676a74 or 0x67676d66
                    ? " (a legacy GGML/GGJT file: convert it to GGUF with llama.cpp's convert scripts)"
                    : "";
                throw Error("header.magic", 0, $"expected 'GGUF' (47 47 55 46), found {found}{hint}");
            }
            Version = U32("header.version");
            if (Version is not (2 or 3))
            {
                uint swapped = BinaryPrimitives.ReverseEndianness(Version);
                string problem = Version == 1
                    ? "GGUF version 1 (32-bit counts) is not supported; re-convert the model with a current llama.cpp"
                    : swapped is 2 or 3
                        ? $"version {swapped} big-endian GGUF is not supported; use a little-endian file"
                        : $"unknown GGUF version {Version} (supported: 2, 3)";
                throw Error("header.version", 4, problem);
            }
            long tensorCountAt = _pos;
            ulong tensorCount = U64("header.tensor_count");
            long kvCountAt = _pos;
            ulong kvCount = U64("header.kv_count");
            if (tensorCount > (ulong)(Remaining / MinTensorInfoBytes))
            {
                throw Error("header.tensor_count", tensorCountAt, $"{tensorCount} tensors cannot fit in the {Remaining} bytes after the header (truncated or corrupt file)");
            }
            if (tensorCount > int.MaxValue)
            {
                throw Error("header.tensor_count", tensorCountAt, $"{tensorCount} tensors is more than a table can hold");
            }
            if (kvCount > (ulong)(Remaining / MinKvBytes))
            {
                throw Error("header.kv_count", kvCountAt, $"{kvCount} metadata entries cannot fit in the {Remaining} bytes after the header (truncated or corrupt file)");
            }

            for (ulong i = 0; i < kvCount; i++)
            {
                long at = _pos;
                string key = ReadString($"kv[{i}].key");
                string field = $"kv[{i}] '{key}'";
                if (Metadata.ContainsKey(key))
                {
                    throw Error(field, at, $"duplicate key '{key}'");
                }
                long typeAt = _pos;
                uint type = U32(field + " type");
                GgufValue value = ReadValue(type, field, typeAt, 0);
                Keys.Add(key);
                Metadata.Add(key, value);
            }

            if (Metadata.TryGetValue(AlignmentKey, out GgufValue? align))
            {
                if (!align.TryAsInt64(out long a) || a <= 0 || a > 1 << 30 || (a & (a - 1)) != 0)
                {
                    throw Error($"kv '{AlignmentKey}'", align.Offset, $"alignment must be a power of two integer up to 2^30, found {align}");
                }
                Alignment = (int)a;
            }

            var infoOffsets = new long[(int)tensorCount];
            for (int i = 0; i < (int)tensorCount; i++)
            {
                infoOffsets[i] = _pos;
                ReadTensorInfo(i);
            }

            DataOffset = AlignUp(_pos, Alignment);
            ValidateLayout(infoOffsets);
        }

        private void ReadTensorInfo(int i)
        {
            long at = _pos;
            string name = ReadString($"tensor[{i}].name");
            string field = $"tensor[{i}] '{name}'";
            if (TensorsByName.ContainsKey(name))
            {
                throw Error(field, at, $"duplicate tensor name '{name}'");
            }
            long ndAt = _pos;
            uint nDims = U32(field + " n_dims");
            if (nDims > Tensor.MaxDims)
            {
                throw Error(field + " n_dims", ndAt, $"{nDims} dimensions (at most {Tensor.MaxDims} are allowed)");
            }
            Long4 ne = Long4.Of(1);
            for (int d = 0; d < (int)nDims; d++)
            {
                long dAt = _pos;
                ulong v = U64($"{field} ne[{d}]");
                if (v > long.MaxValue)
                {
                    throw Error($"{field} ne[{d}]", dAt, $"dimension {v} does not fit in an i64");
                }
                ne[d] = (long)v;
            }
            long typeAt = _pos;
            uint type = U32(field + " type");
            if (!TypeTraits.IsKnown((int)Math.Min(type, int.MaxValue)))
            {
                throw Error(field + " type", typeAt, $"unknown ggml type id {type}");
            }
            var dtype = (DType)type;
            TypeTraits tt = TypeTraits.Of(dtype);
            if (ne[0] % tt.BlockSize != 0)
            {
                throw Error(field + " ne[0]", ndAt + 4, $"ne[0] = {ne[0]} is not a multiple of the {tt.Name} block size {tt.BlockSize}");
            }
            long bytes;
            try
            {
                _ = checked(ne[0] * ne[1] * ne[2] * ne[3]);
                bytes = GgufTensorInfo.ComputeByteSize(dtype, ne);
            }
            catch (OverflowException)
            {
                throw Error(field + " ne", ndAt + 4, $"the element count of shape {ne} overflows an i64");
            }
            long offAt = _pos;
            ulong off = U64(field + " offset");
            if (off > long.MaxValue)
            {
                throw Error(field + " offset", offAt, $"offset {off} does not fit in an i64");
            }
            var info = new GgufTensorInfo(i, name, (int)nDims, ne, dtype, (long)off, bytes);
            Tensors.Add(info);
            TensorsByName.Add(name, info);
        }

        private void ValidateLayout(long[] infoOffsets)
        {
            if (Tensors.Count == 0)
            {
                // A vocab-only file: its (empty) data section may start past the end of the file.
                return;
            }
            long dataSize = length - DataOffset;
            if (dataSize < 0)
            {
                throw Error("data section", DataOffset, $"the file has {Tensors.Count} tensors but ends at byte {length}, before the data section (truncated file)");
            }
            var order = new int[Tensors.Count];
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
                GgufTensorInfo t = Tensors[i];
                // The info's offset field is its last 8 bytes; point errors at it.
                long fieldAt = (i + 1 < infoOffsets.Length ? infoOffsets[i + 1] : DataOffsetBeforePadding()) - 8;
                string field = $"tensor[{i}] '{t.Name}' offset";
                if (t.Offset % Alignment != 0)
                {
                    throw Error(field, fieldAt, $"data offset {t.Offset} is not a multiple of the alignment {Alignment}");
                }
                if (t.Offset > dataSize || t.ByteSize > dataSize - t.Offset)
                {
                    throw Error(field, fieldAt, $"data [{t.Offset}, {t.Offset + (decimal)t.ByteSize}) runs past the end of the data section ({dataSize} bytes from byte {DataOffset}; truncated file?)");
                }
            }
            Array.Sort(order, (a, b) => Tensors[a].Offset.CompareTo(Tensors[b].Offset));
            // Sorted by start: a tensor overlaps an earlier one exactly when it starts before the furthest end so far.
            GgufTensorInfo? furthest = null;
            foreach (int k in order)
            {
                GgufTensorInfo cur = Tensors[k];
                if (cur.ByteSize == 0)
                {
                    continue;
                }
                if (furthest is not null && cur.Offset < furthest.Offset + furthest.ByteSize)
                {
                    long fieldAt = (cur.Index + 1 < infoOffsets.Length ? infoOffsets[cur.Index + 1] : DataOffsetBeforePadding()) - 8;
                    throw Error($"tensor[{cur.Index}] '{cur.Name}' offset", fieldAt,
                        $"data [{cur.Offset}, {cur.Offset + cur.ByteSize}) overlaps tensor '{furthest.Name}' at [{furthest.Offset}, {furthest.Offset + furthest.ByteSize})");
                }
                if (furthest is null || cur.Offset + cur.ByteSize > furthest.Offset + furthest.ByteSize)
                {
                    furthest = cur;
                }
            }
        }

        private long DataOffsetBeforePadding() => _pos;

        private GgufValue ReadValue(uint type, string field, long typeAt, int depth)
        {
            long at = _pos;
            switch ((GgufValueType)type)
            {
                case GgufValueType.UInt8: return GgufValue.Create(GgufValueType.UInt8, Read<byte>(field), at);
                case GgufValueType.Int8: return GgufValue.Create(GgufValueType.Int8, Read<sbyte>(field), at);
                case GgufValueType.UInt16: return GgufValue.Create(GgufValueType.UInt16, Read<ushort>(field), at);
                case GgufValueType.Int16: return GgufValue.Create(GgufValueType.Int16, Read<short>(field), at);
                case GgufValueType.UInt32: return GgufValue.Create(GgufValueType.UInt32, Read<uint>(field), at);
                case GgufValueType.Int32: return GgufValue.Create(GgufValueType.Int32, Read<int>(field), at);
                case GgufValueType.Float32: return GgufValue.Create(GgufValueType.Float32, Read<float>(field), at);
                case GgufValueType.UInt64: return GgufValue.Create(GgufValueType.UInt64, Read<ulong>(field), at);
                case GgufValueType.Int64: return GgufValue.Create(GgufValueType.Int64, Read<long>(field), at);
                case GgufValueType.Float64: return GgufValue.Create(GgufValueType.Float64, Read<double>(field), at);
                case GgufValueType.Bool:
                    byte b = Read<byte>(field);
                    if (b > 1)
                    {
                        throw Error(field, at, $"bool byte is {b} (must be 0 or 1)");
                    }
                    return GgufValue.Create(GgufValueType.Bool, b == 1, at);
                case GgufValueType.String: return GgufValue.Create(GgufValueType.String, ReadString(field), at);
                case GgufValueType.Array: return ReadArray(field, depth);
                default: throw Error(field + " type", typeAt, $"unknown value type {type} (known: 0..12)");
            }
        }

        private GgufValue ReadArray(string field, int depth)
        {
            long at = _pos;
            if (depth >= MaxArrayNesting)
            {
                throw Error(field, at, $"arrays nested deeper than {MaxArrayNesting} levels");
            }
            uint elemTag = U32(field + " element type");
            var elem = (GgufValueType)elemTag;
            if (elemTag > (uint)GgufValueType.Float64)
            {
                throw Error(field + " element type", at, $"unknown array element type {elemTag} (known: 0..12)");
            }
            long countAt = _pos;
            ulong count = U64(field + " count");
            long min = elem switch
            {
                GgufValueType.String => 8,
                GgufValueType.Array => MinArrayBytes,
                _ => GgufValue.ScalarSize(elem),
            };
            if (count > (ulong)(Remaining / min))
            {
                throw Error(field + " count", countAt, $"{count} elements of {GgufValue.Name(elem)} run past the end of the file ({Remaining} bytes left)");
            }
            if (count > (ulong)Array.MaxLength)
            {
                throw Error(field + " count", countAt, $"{count} elements is more than an array can hold");
            }
            int n = (int)count;
            object array = elem switch
            {
                GgufValueType.UInt8 => Bulk<byte>(n),
                GgufValueType.Int8 => Bulk<sbyte>(n),
                GgufValueType.UInt16 => Bulk<ushort>(n),
                GgufValueType.Int16 => Bulk<short>(n),
                GgufValueType.UInt32 => Bulk<uint>(n),
                GgufValueType.Int32 => Bulk<int>(n),
                GgufValueType.Float32 => Bulk<float>(n),
                GgufValueType.UInt64 => Bulk<ulong>(n),
                GgufValueType.Int64 => Bulk<long>(n),
                GgufValueType.Float64 => Bulk<double>(n),
                GgufValueType.Bool => Bools(n, field),
                GgufValueType.String => Strings(n, field),
                _ => Nested(n, field, depth),
            };
            return GgufValue.CreateArray(elem, array, at);
        }

        private T[] Bulk<T>(int n) where T : unmanaged
        {
            var a = new T[n];
            long bytes = (long)n * sizeof(T);
            fixed (T* dst = a)
            {
                Buffer.MemoryCopy(basePtr + _pos, dst, bytes, bytes);
            }
            _pos += bytes;
            return a;
        }

        private bool[] Bools(int n, string field)
        {
            var a = new bool[n];
            for (int i = 0; i < n; i++)
            {
                byte b = basePtr[_pos];
                if (b > 1)
                {
                    throw Error($"{field}[{i}]", _pos, $"bool byte is {b} (must be 0 or 1)");
                }
                a[i] = b == 1;
                _pos++;
            }
            return a;
        }

        private string[] Strings(int n, string field)
        {
            var a = new string[n];
            for (int i = 0; i < n; i++)
            {
                a[i] = ReadString(field, i);
            }
            return a;
        }

        private GgufValue[] Nested(int n, string field, int depth)
        {
            var a = new GgufValue[n];
            for (int i = 0; i < n; i++)
            {
                a[i] = ReadArray($"{field}[{i}]", depth + 1);
            }
            return a;
        }
    }

    internal static long AlignUp(long x, int alignment) => (x + alignment - 1) / alignment * alignment;
}
