using System.Numerics.Tensors;

namespace Weft.Models.Sampling;

/// <summary>
/// llama.cpp's sampler chain: logit bias → penalties (repeat, frequency, presence over a window) → top-k → typical →
/// top-p → min-p → temperature → draw with a seeded <see cref="Mt19937"/>. At temperature ≤ 0 the draw is the argmax of
/// the penalised, biased logits (greedy), ties broken by the lower id.
/// </summary>
/// <remarks>All buffers are allocated once per sampler; sampling a token allocates nothing.</remarks>
public sealed class Sampler
{
    private readonly SamplingParams _p;
    private readonly Mt19937 _rng;
    private readonly int _vocab;
    private readonly float[] _logits;
    private readonly int[] _ids;
    private readonly float[] _probs;
    private readonly float[] _keys;
    private readonly int[] _order;
    private readonly Dictionary<int, int> _counts = new();
    private readonly Queue<int> _window = new();

    /// <summary>Creates a sampler for a vocabulary of <paramref name="vocabSize"/> tokens.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public Sampler(SamplingParams parameters, int vocabSize)
    {
        parameters.Validate(vocabSize);
        _p = parameters;
        _vocab = vocabSize;
        _rng = new Mt19937(parameters.Seed == 0xFFFFFFFF ? (uint)Environment.TickCount : parameters.Seed);
        _logits = new float[vocabSize];
        _ids = new int[vocabSize];
        _probs = new float[vocabSize];
        _keys = new float[vocabSize];
        _order = new int[vocabSize];
    }

    /// <summary>The settings.</summary>
    public SamplingParams Parameters => _p;

    /// <summary>Records a token as part of the history the penalties look at (prompt and generated tokens).</summary>
    public void Accept(int token)
    {
        if (_p.PenaltyLastN == 0)
        {
            return;
        }
        _window.Enqueue(token);
        _counts[token] = _counts.GetValueOrDefault(token) + 1;
        if (_p.PenaltyLastN > 0 && _window.Count > _p.PenaltyLastN)
        {
            int old = _window.Dequeue();
            if (--_counts[old] == 0)
            {
                _counts.Remove(old);
            }
        }
    }

    /// <summary>Forgets the penalty history.</summary>
    public void Reset()
    {
        _window.Clear();
        _counts.Clear();
    }

    /// <summary>Picks the next token from <paramref name="logits"/> (one value per vocabulary entry).</summary>
    /// <exception cref="ArgumentException">The logits do not have one value per token.</exception>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.Length != _vocab)
        {
            throw new ArgumentException($"Expected {_vocab} logits, got {logits.Length}.", nameof(logits));
        }
        logits.CopyTo(_logits);
        if (_p.LogitBias is not null)
        {
            foreach (KeyValuePair<int, float> kv in _p.LogitBias)
            {
                _logits[kv.Key] += kv.Value;
            }
        }
        ApplyPenalties();

        if (_p.Temperature <= 0f)
        {
            return ArgMax(_logits);
        }

        // Candidates sorted by logit, descending, ties by lower id: a bounded insertion selection for top-k (most
        // tokens are rejected by one comparison with the current k-th best), a full sort only without top-k.
        int n = _p.TopK > 0 ? SelectTop(Math.Min(_vocab, Math.Max(_p.TopK, _p.MinKeep))) : SortAll();
        if (_p.TypicalP < 1f)
        {
            n = Typical(n);
        }
        if (_p.TopP < 1f)
        {
            Softmax(n, 1f);
            float cum = 0f;
            int keep = n;
            for (int i = 0; i < n; i++)
            {
                cum += _probs[i];
                if (cum >= _p.TopP && i + 1 >= _p.MinKeep)
                {
                    keep = i + 1;
                    break;
                }
            }
            n = keep;
        }
        if (_p.MinP > 0f)
        {
            // Keep logits within log(min_p) of the best one (same as p_i >= min_p * p_max).
            float threshold = _logits[_ids[0]] + MathF.Log(_p.MinP);
            int keep = 1;
            while (keep < n && (_logits[_ids[keep]] >= threshold || keep < _p.MinKeep))
            {
                keep++;
            }
            n = keep;
        }

        Softmax(n, 1f / _p.Temperature);
        double u = _rng.NextCanonical();
        double acc = 0;
        for (int i = 0; i < n; i++)
        {
            acc += _probs[i];
            if (u < acc)
            {
                return _ids[i];
            }
        }
        return _ids[n - 1];
    }

    private void ApplyPenalties()
    {
        if (_counts.Count == 0 || (_p.RepeatPenalty == 1f && _p.FrequencyPenalty == 0f && _p.PresencePenalty == 0f))
        {
            return;
        }
        foreach (KeyValuePair<int, int> kv in _counts)
        {
            if ((uint)kv.Key >= (uint)_vocab)
            {
                continue;
            }
            ref float l = ref _logits[kv.Key];
            // llama.cpp: divide positive logits, multiply negative ones, then subtract frequency and presence terms.
            l = l <= 0f ? l * _p.RepeatPenalty : l / _p.RepeatPenalty;
            l -= kv.Value * _p.FrequencyPenalty + _p.PresencePenalty;
        }
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
        {
            if (x[i] > x[best])
            {
                best = i;
            }
        }
        return best;
    }

    // Probabilities of the first n sorted candidates at inverse temperature invT, into _probs[0..n).
    private void Softmax(int n, float invT)
    {
        float max = _logits[_ids[0]] * invT;
        float sum = 0f;
        for (int i = 0; i < n; i++)
        {
            float e = MathF.Exp(_logits[_ids[i]] * invT - max);
            _probs[i] = e;
            sum += e;
        }
        TensorPrimitives.Divide(_probs.AsSpan(0, n), sum, _probs.AsSpan(0, n));
    }

    private int Typical(int n)
    {
        Softmax(n, 1f);
        float entropy = 0f;
        for (int i = 0; i < n; i++)
        {
            if (_probs[i] > 0f)
            {
                entropy -= _probs[i] * MathF.Log(_probs[i]);
            }
        }
        // Order candidates by |(-log p) - entropy| and keep the smallest prefix reaching the mass.
        for (int i = 0; i < n; i++)
        {
            _order[i] = i;
            _keys[i] = MathF.Abs(-MathF.Log(_probs[i]) - entropy);
        }
        Array.Sort(_keys, _order, 0, n);
        float cum = 0f;
        int keep = n;
        for (int i = 0; i < n; i++)
        {
            cum += _probs[_order[i]];
            if (cum > _p.TypicalP && i + 1 >= _p.MinKeep)
            {
                keep = i + 1;
                break;
            }
        }
        // _keys is free again: use it as a scratch copy of the kept ids.
        Span<int> kept = System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(_keys.AsSpan(0, keep));
        for (int i = 0; i < keep; i++)
        {
            kept[i] = _ids[_order[i]];
        }
        kept.CopyTo(_ids);
        return keep;
    }

    private bool Before(int a, int b) => _logits[a] > _logits[b] || (_logits[a] == _logits[b] && a < b);

    private int SelectTop(int k)
    {
        int count = 0;
        for (int id = 0; id < _vocab; id++)
        {
            if (count == k && !Before(id, _ids[k - 1]))
            {
                continue;
            }
            int pos = count < k ? count++ : k - 1;
            while (pos > 0 && Before(id, _ids[pos - 1]))
            {
                _ids[pos] = _ids[pos - 1];
                pos--;
            }
            _ids[pos] = id;
        }
        return count;
    }

    private int SortAll()
    {
        for (int i = 0; i < _vocab; i++)
        {
            _ids[i] = i;
            _keys[i] = -_logits[i];
        }
        Array.Sort(_keys, _ids, 0, _vocab);
        // Array.Sort is not stable: restore id order inside runs of equal logits.
        int start = 0;
        for (int i = 1; i <= _vocab; i++)
        {
            if (i == _vocab || _keys[i] != _keys[start])
            {
                if (i - start > 1)
                {
                    Array.Sort(_ids, start, i - start);
                }
                start = i;
            }
        }
        return _vocab;
    }
}
