using Weft.Core;
using Weft.Models.Llama;
using Weft.Models.Sampling;
using Weft.Tests;

namespace Weft.Models.Tests.Llama;

/// <summary>
/// Several sequences in one context (<see cref="ContextParams.MaxSequences"/> above 1): decoding them together, in
/// interleaved batches, gives what each gives alone in its own single-sequence context; sequence copy, removal and keep
/// behave like fresh runs; bad batches are refused with clear errors.
/// </summary>
public class MultiSequenceTests
{
    private const float Tolerance = 1e-4f;
    private static readonly string[] s_texts = ["Once upon a time", "The little dog ran to the park", "Lily"];

    private static LlamaModel Open() => LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));

    private static ContextParams Params(int maxSequences, int size = 256, int batchSize = 512) =>
        new() { ContextSize = size, Threads = 1, Backend = BackendChoice.Cpu, KvType = DType.F32, MaxSequences = maxSequences, BatchSize = batchSize };

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
        {
            if (x[i] > x[best]) best = i;
        }
        return best;
    }

    private static float MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.That(a.Length, Is.EqualTo(b.Length));
        float d = 0f;
        for (int i = 0; i < a.Length; i++)
        {
            d = Math.Max(d, Math.Abs(a[i] - b[i]));
        }
        return d;
    }

    /// <summary>Greedy run of <paramref name="prefix"/> in its own single-sequence context: per step the logits and the id they pick.</summary>
    private static (List<int> Ids, List<float[]> Logits) Alone(LlamaModel model, int[] prefix, int steps)
    {
        using LlamaContext ctx = model.CreateContext(Params(1));
        var ids = new List<int>();
        var logits = new List<float[]>();
        float[] l = ctx.Decode(prefix).ToArray();
        for (int i = 0; i < steps; i++)
        {
            logits.Add(l);
            ids.Add(ArgMax(l));
            l = ctx.Decode([ids[^1]]).ToArray();
        }
        return (ids, logits);
    }

    /// <summary>
    /// Greedy steps for sequences 0 .. <paramref name="next"/>.Length - 1 of <paramref name="ctx"/>, one token per
    /// sequence per batch: <paramref name="next"/> holds each sequence's next position and, in <paramref name="rows"/>,
    /// the row of the last batch holding its logits. Checks each step against <paramref name="expected"/>.
    /// </summary>
    private static void GreedyTogether(LlamaContext ctx, int[] seqs, int[] next, int[] rows, (List<int> Ids, List<float[]> Logits)[] expected, int steps)
    {
        var batch = new LlamaBatch();
        for (int step = 0; step < steps; step++)
        {
            batch.Clear();
            for (int k = 0; k < seqs.Length; k++)
            {
                ReadOnlySpan<float> l = ctx.BatchLogits(rows[k]);
                Assert.That(MaxDiff(l, expected[k].Logits[step]), Is.LessThanOrEqualTo(Tolerance), $"logits of sequence {seqs[k]} at step {step}");
                int id = ArgMax(l);
                Assert.That(id, Is.EqualTo(expected[k].Ids[step]), $"greedy id of sequence {seqs[k]} at step {step}");
                rows[k] = batch.Count;
                batch.Add(id, next[k]++, seqs[k], logits: true);
            }
            ctx.Decode(batch);
        }
    }

    [TestCase(512)]
    [TestCase(5)] // the prompt batch spans several graphs
    public void InterleavedSequencesMatchSeparateContexts(int batchSize)
    {
        using LlamaModel model = Open();
        int[][] prompts = s_texts.Select(t => model.Tokenizer.Encode(t, addSpecial: true)).ToArray();
        const int Steps = 24;
        var expected = prompts.Select(p => Alone(model, p, Steps)).ToArray();

        using LlamaContext ctx = model.CreateContext(Params(prompts.Length, batchSize: batchSize));
        // Prompt tokens interleaved round-robin, so every graph mixes the sequences' rows.
        var batch = new LlamaBatch();
        int[] rows = new int[prompts.Length];
        for (int i = 0; i < prompts.Max(p => p.Length); i++)
        {
            for (int s = 0; s < prompts.Length; s++)
            {
                if (i < prompts[s].Length)
                {
                    bool last = i == prompts[s].Length - 1;
                    if (last) rows[s] = batch.Count;
                    batch.Add(prompts[s][i], i, s, logits: last);
                }
            }
        }
        ctx.Decode(batch);
        Assert.That(ctx.FreeCells, Is.EqualTo(ctx.Size - prompts.Sum(p => p.Length)));
        GreedyTogether(ctx, [0, 1, 2], prompts.Select(p => p.Length).ToArray(), rows, expected, Steps);
        for (int s = 0; s < prompts.Length; s++)
        {
            Assert.That(ctx.SeqPosMin(s), Is.EqualTo(0));
            Assert.That(ctx.SeqPosMax(s), Is.EqualTo(prompts[s].Length + Steps - 1));
            Assert.That(ctx.SeqTokens(s), Is.EqualTo(prompts[s].Concat(expected[s].Ids).ToArray()), $"tokens of sequence {s}");
        }
    }

    [Test]
    public void SharedPrefixCopiedThenDivergingMatchesSeparateRuns()
    {
        using LlamaModel model = Open();
        int[] prefix = model.Tokenizer.Encode("Once upon a time, there was a", addSpecial: true);
        // Each sequence continues the shared prefix with its own forced token, then runs greedily.
        int[] forks = [model.Tokenizer.Encode("cat", addSpecial: false)[0], model.Tokenizer.Encode("girl", addSpecial: false)[0], model.Tokenizer.Encode("big", addSpecial: false)[0]];
        Assume.That(forks.Distinct().Count(), Is.EqualTo(3));
        const int Steps = 16;
        var expected = forks.Select(f => Alone(model, [.. prefix, f], Steps)).ToArray();

        using LlamaContext ctx = model.CreateContext(Params(4));
        ctx.Decode(new LlamaBatch().AddSequence(prefix, 0, seqId: 0, logitsForLast: false));
        ctx.SeqCopy(0, 1);
        ctx.SeqCopy(0, 2);
        Assert.That(ctx.FreeCells, Is.EqualTo(ctx.Size - prefix.Length), "copies share the prefix rows");
        Assert.That(ctx.SeqPosMax(2), Is.EqualTo(prefix.Length - 1));
        Assert.That(ctx.SeqPosMax(3), Is.EqualTo(-1));

        var batch = new LlamaBatch();
        for (int s = 0; s < 3; s++)
        {
            batch.Add(forks[s], prefix.Length, s, logits: true);
        }
        ctx.Decode(batch);
        GreedyTogether(ctx, [0, 1, 2], Enumerable.Repeat(prefix.Length + 1, 3).ToArray(), [0, 1, 2], expected, Steps);
    }

    [Test]
    public void SharedRowsDecodedForSeveralSequencesAtOnceMatchSeparateRuns()
    {
        using LlamaModel model = Open();
        int[] prefix = model.Tokenizer.Encode("One day, a little", addSpecial: true);
        int[] forks = [model.Tokenizer.Encode("boy", addSpecial: false)[0], model.Tokenizer.Encode("bird", addSpecial: false)[0]];
        const int Steps = 12;
        var expected = forks.Select(f => Alone(model, [.. prefix, f], Steps)).ToArray();

        using LlamaContext ctx = model.CreateContext(Params(2));
        var batch = new LlamaBatch();
        for (int i = 0; i < prefix.Length; i++)
        {
            batch.Add(prefix[i], i, [0, 1], logits: false); // one row per token, in both sequences
        }
        batch.Add(forks[0], prefix.Length, 0, logits: true).Add(forks[1], prefix.Length, 1, logits: true);
        ctx.Decode(batch);
        Assert.That(ctx.FreeCells, Is.EqualTo(ctx.Size - prefix.Length - 2));
        GreedyTogether(ctx, [0, 1], [prefix.Length + 1, prefix.Length + 1], [prefix.Length, prefix.Length + 1], expected, Steps);
    }

    [Test]
    public void RemovedPositionsRedecodedMatchAFreshRun()
    {
        using LlamaModel model = Open();
        int[] a = model.Tokenizer.Encode("Once upon a time", addSpecial: true);
        int[] b = model.Tokenizer.Encode("The sun was shining and the birds", addSpecial: true);
        int[] c = model.Tokenizer.Encode("Tom had a red ball", addSpecial: true);
        const int Steps = 10;
        var expectedA = Alone(model, a, 3 * Steps);

        using LlamaContext ctx = model.CreateContext(Params(2));
        ctx.Decode(new LlamaBatch().AddSequence(a, 0, 0).AddSequence(b, 0, 1));
        int[] rows = [a.Length - 1, a.Length + b.Length - 1];
        var expectedB = Alone(model, b, Steps);
        GreedyTogether(ctx, [0, 1], [a.Length, b.Length], rows, [expectedA, expectedB], Steps);

        // Cut sequence 1 back to its first 4 positions and continue it with c's tokens: as if b[..4] + c[1..] ran alone.
        ctx.SeqRemove(1, 4, -1);
        Assert.That(ctx.SeqPosMax(1), Is.EqualTo(3));
        Assert.That(ctx.SeqTokens(1), Is.EqualTo(b[..4]));
        int[] rewritten = [.. b[..4], .. c[1..]];
        var expectedRewritten = Alone(model, rewritten, Steps);
        // Sequence 0 goes on generating in the same batches: the removal does not touch its rows.
        int nextA = a.Length + Steps;
        int idA = ArgMax(ctx.BatchLogits(rows[0]));
        Assert.That(idA, Is.EqualTo(expectedA.Ids[Steps]));
        var batch = new LlamaBatch().Add(idA, nextA, 0, logits: true).AddSequence(c.AsSpan(1), 4, 1);
        ctx.Decode(batch);
        var aLater = (expectedA.Ids.Skip(Steps + 1).ToList(), expectedA.Logits.Skip(Steps + 1).ToList());
        GreedyTogether(ctx, [0, 1], [nextA + 1, rewritten.Length], [0, batch.Count - 1], [aLater, expectedRewritten], Steps);

        // Remove sequence 1 whole and start c in the freed rows (holes between sequence 0's rows).
        ctx.SeqRemove(1, -1, -1);
        Assert.That(ctx.SeqPosMax(1), Is.EqualTo(-1));
        Assert.That(ctx.FreeCells, Is.EqualTo(ctx.Size - (a.Length + 2 * Steps + 1)));
        var expectedC = Alone(model, c, Steps);
        ctx.Decode(new LlamaBatch().AddSequence(c, 0, 1));
        GreedyTogether(ctx, [1], [c.Length], [c.Length - 1], [expectedC], Steps);

        // Keep only sequence 1: sequence 0 is gone and sequence 1 goes on as before.
        ctx.SeqKeep(1);
        Assert.That(ctx.SeqPosMax(0), Is.EqualTo(-1));
        Assert.That(ctx.FreeCells, Is.EqualTo(ctx.Size - c.Length - Steps));
        Assert.That(ctx.SeqTokens(1), Is.EqualTo(c.Concat(expectedC.Ids).ToArray()));
    }

    [Test]
    public void SingleSequenceMembersActOnSequenceZero()
    {
        using LlamaModel model = Open();
        int[] prompt = model.Tokenizer.Encode("Once upon a time", addSpecial: true);
        using LlamaContext single = model.CreateContext(Params(1));
        using LlamaContext multi = model.CreateContext(Params(2));
        float[] all1 = single.DecodeAll(prompt);
        float[] all2 = multi.DecodeAll(prompt);
        Assert.That(MaxDiff(all1, all2), Is.LessThanOrEqualTo(Tolerance));
        Assert.That(multi.Position, Is.EqualTo(prompt.Length));
        Assert.That(multi.Tokens, Is.EqualTo(prompt));
        multi.Truncate(2);
        single.Truncate(2);
        Assert.That(multi.Position, Is.EqualTo(2));
        Assert.That(MaxDiff(single.Decode(prompt[2..]), multi.Decode(prompt[2..])), Is.LessThanOrEqualTo(Tolerance));

        // The generator (single-sequence API) on a multi-sequence context still gives the reference greedy ids.
        multi.Clear();
        single.Clear();
        var p = new GenerationParams { MaxTokens = 20, Sampling = SamplingParams.Greedy, StopAtEos = false };
        int[] ids1 = new Generator(single).GenerateAsync(prompt, p).ToBlockingEnumerable().Where(t => t.Id >= 0).Select(t => t.Id).ToArray();
        int[] ids2 = new Generator(multi).GenerateAsync(prompt, p).ToBlockingEnumerable().Where(t => t.Id >= 0).Select(t => t.Id).ToArray();
        Assert.That(ids2, Is.EqualTo(ids1));
    }

    [Test]
    public void BatchOnSingleSequenceContextMatchesDecode()
    {
        using LlamaModel model = Open();
        int[] prompt = model.Tokenizer.Encode("The little dog ran to the park", addSpecial: true);
        using LlamaContext a = model.CreateContext(Params(1));
        using LlamaContext b = model.CreateContext(Params(1));
        float[] all = a.DecodeAll(prompt);
        var batch = new LlamaBatch();
        for (int i = 0; i < prompt.Length; i++)
        {
            batch.Add(prompt[i], i, 0, logits: i % 3 == 0 || i == prompt.Length - 1);
        }
        b.Decode(batch);
        int nVocab = model.HParams.NVocab;
        for (int i = 0; i < prompt.Length; i++)
        {
            if (batch.WantsLogits(i))
            {
                Assert.That(b.BatchLogits(i).ToArray(), Is.EqualTo(all.AsSpan(i * nVocab, nVocab).ToArray()), $"row {i}");
            }
            else
            {
                Assert.Throws<InvalidOperationException>(() => b.BatchLogits(i));
            }
        }
        Assert.That(b.Position, Is.EqualTo(prompt.Length));
        b.Decode(new LlamaBatch().Add(prompt[0], prompt.Length, 0, logits: true));
        Assert.That(b.BatchLogits(0).ToArray(), Is.EqualTo(a.Decode([prompt[0]]).ToArray()));

        // One sequence only; a tail can be removed but not the middle.
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Decode(new LlamaBatch().Add(1, b.Position, 1, true)));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.SeqCopy(0, 1));
        Assert.Throws<NotSupportedException>(() => b.SeqRemove(0, 1, 3));
        b.SeqRemove(0, 3, -1);
        Assert.That(b.Position, Is.EqualTo(3));
        Assert.That(b.Tokens, Is.EqualTo(prompt[..3]));
        Assert.Throws<ArgumentException>(() => b.Decode(new LlamaBatch().Add(1, 4, 0, true)));
    }

    [Test]
    public void FullCacheIsRefusedAndLeavesTheContextUnchanged()
    {
        using LlamaModel model = Open();
        using LlamaContext ctx = model.CreateContext(Params(2, size: 16));
        int[] ten = Enumerable.Range(300, 10).ToArray();
        ctx.Decode(new LlamaBatch().AddSequence(ten, 0, 0));
        var e = Assert.Throws<ContextFullException>(() => ctx.Decode(new LlamaBatch().AddSequence(ten[..7], 0, 1)))!;
        Assert.That(e.Message, Does.Contain("6 free rows of 16"));
        Assert.That(e.Needed, Is.EqualTo(17));
        Assert.That(ctx.FreeCells, Is.EqualTo(6));
        Assert.That(ctx.SeqPosMax(1), Is.EqualTo(-1));
        ctx.Decode(new LlamaBatch().AddSequence(ten[..6], 0, 1));
        Assert.That(ctx.FreeCells, Is.EqualTo(0));
        Assert.Throws<ContextFullException>(() => ctx.Decode(new LlamaBatch().Add(1, 10, 0, true)));
        Assert.Throws<ContextFullException>(() => ctx.Decode(new LlamaBatch().AddSequence(Enumerable.Repeat(1, 17).ToArray(), 0, 1)),
            "a batch larger than the context");
        // Freeing rows makes room again.
        ctx.SeqRemove(1, 3, -1);
        ctx.Decode(new LlamaBatch().Add(1, 10, 0, true).Add(2, 3, 1, true));
        Assert.That(ctx.FreeCells, Is.EqualTo(1));
    }

    [Test]
    public void BadSequenceIdsAndPositionsAreRefused()
    {
        using LlamaModel model = Open();
        using LlamaContext ctx = model.CreateContext(Params(2, size: 32));
        ctx.Decode(new LlamaBatch().AddSequence([1, 300, 301, 302, 303], 0, 0));

        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => ctx.Decode(new LlamaBatch().Add(1, 0, 2, true)))!;
        Assert.That(bad.Message, Does.Contain("sequence id 2").And.Contain("MaxSequences = 2"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaBatch().Add(1, 0, -1, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LlamaBatch().Add(1, -1, 0, true));
        Assert.Throws<ArgumentException>(() => new LlamaBatch().Add(1, 0, [0, 0], true));
        Assert.Throws<ArgumentException>(() => new LlamaBatch().Add(1, 0, [], true));
        Assert.Throws<ArgumentOutOfRangeException>(() => ctx.SeqCopy(0, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ctx.SeqKeep(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ctx.SeqPosMax(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ctx.SeqRemove(7, 0, -1));
        Assert.Throws<ArgumentException>(() => ctx.SeqRemove(0, 5, 2));

        // Sequence 0 continues at 5: a gap, a repeat and a repeat inside the batch are refused, nothing is written.
        var gap = Assert.Throws<ArgumentException>(() => ctx.Decode(new LlamaBatch().Add(1, 6, 0, true)))!;
        Assert.That(gap.Message, Does.Contain("sequence 0 continues at position 5, not 6"));
        Assert.Throws<ArgumentException>(() => ctx.Decode(new LlamaBatch().Add(1, 4, 0, true)));
        Assert.Throws<ArgumentException>(() => ctx.Decode(new LlamaBatch().Add(1, 5, 0, false).Add(2, 5, 0, true)));
        Assert.Throws<ArgumentException>(() => ctx.Decode(new LlamaBatch().Add(1, 0, 1, false).Add(2, 5, [0, 1], true)),
            "a shared row must continue every one of its sequences");
        Assert.Throws<ArgumentException>(() => ctx.Decode(new LlamaBatch().Add(model.HParams.NVocab, 5, 0, true)));
        Assert.Throws<ArgumentException>(() => ctx.Decode(new LlamaBatch()));
        Assert.That(ctx.FreeCells, Is.EqualTo(32 - 5));
        Assert.That(ctx.SeqPosMax(0), Is.EqualTo(4));
        Assert.That(ctx.SeqPosMax(1), Is.EqualTo(-1));

        // Copying onto positions the target already holds elsewhere would duplicate them.
        ctx.Decode(new LlamaBatch().AddSequence([1, 300], 0, 1));
        Assert.Throws<ArgumentException>(() => ctx.SeqCopy(0, 1));
        ctx.SeqCopy(0, 1, 2, -1);
        Assert.That(ctx.SeqTokens(1), Is.EqualTo(new[] { 1, 300, 301, 302, 303 }));

        Assert.Throws<ArgumentOutOfRangeException>(() => ctx.BatchLogits(2));
        Assert.Throws<ArgumentException>(() => model.CreateContext(Params(65)));
        Assert.Throws<ArgumentException>(() => model.CreateContext(Params(0)));
        string state = Path.Combine(Path.GetTempPath(), "weft-multiseq-refused.state");
        Assert.Throws<NotSupportedException>(() => ctx.SaveState(state));
        Assert.That(File.Exists(state), Is.False);
        Assert.Throws<NotSupportedException>(() => ctx.LoadState(state));
    }
}
