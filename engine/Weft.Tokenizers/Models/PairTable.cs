using System.Runtime.CompilerServices;

namespace Weft.Tokenizers.Models;

/// <summary>Open-addressing map from a token pair (left id, right id) to its merge rank and merged id.</summary>
internal sealed class PairTable
{
    private ulong[] _keys;
    private long[] _values; // rank << 32 | merged id
    private int _mask;
    private int _count;

    public PairTable(int capacity)
    {
        int size = 16;
        while (size < capacity * 2)
        {
            size <<= 1;
        }
        _keys = new ulong[size];
        _values = new long[size];
        _mask = size - 1;
        Array.Fill(_keys, ulong.MaxValue);
    }

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(int left, int right) => ((ulong)(uint)left << 32) | (uint)right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> 32) & _mask;

    /// <summary>Adds the pair unless present (the first merge of a pair wins, as in the merges file order).</summary>
    public void TryAdd(int left, int right, int rank, int merged)
    {
        if (_count * 2 >= _keys.Length)
        {
            Grow();
        }
        ulong key = Key(left, right);
        int i = Slot(key);
        while (_keys[i] != ulong.MaxValue)
        {
            if (_keys[i] == key)
            {
                return;
            }
            i = (i + 1) & _mask;
        }
        _keys[i] = key;
        _values[i] = ((long)rank << 32) | (uint)merged;
        _count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int left, int right, out int rank, out int merged)
    {
        ulong key = Key(left, right);
        int i = Slot(key);
        ulong[] keys = _keys;
        while (true)
        {
            ulong k = keys[i];
            if (k == key)
            {
                long v = _values[i];
                rank = (int)(v >> 32);
                merged = (int)v;
                return true;
            }
            if (k == ulong.MaxValue)
            {
                rank = merged = 0;
                return false;
            }
            i = (i + 1) & _mask;
        }
    }

    private void Grow()
    {
        ulong[] oldKeys = _keys;
        long[] oldValues = _values;
        _keys = new ulong[oldKeys.Length * 2];
        _values = new long[oldKeys.Length * 2];
        Array.Fill(_keys, ulong.MaxValue);
        _mask = _keys.Length - 1;
        _count = 0;
        for (int i = 0; i < oldKeys.Length; i++)
        {
            if (oldKeys[i] != ulong.MaxValue)
            {
                TryAdd((int)(oldKeys[i] >> 32), (int)(uint)oldKeys[i], (int)(oldValues[i] >> 32), (int)oldValues[i]);
            }
        }
    }
}
