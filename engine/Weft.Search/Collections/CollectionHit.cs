using Weft.Search.Text;

namespace Weft.Search.Collections;

/// <summary>One collection search result.</summary>
/// <param name="Chunk">The matching chunk.</param>
/// <param name="Score">BM25 score (lexical), cosine similarity (vector) or fused RRF score (hybrid); higher is better.</param>
/// <param name="LexicalRank">1-based rank in the BM25 list, or null when absent from it.</param>
/// <param name="VectorRank">1-based rank in the vector list, or null when absent from it.</param>
public sealed record CollectionHit(TextChunk Chunk, double Score, int? LexicalRank, int? VectorRank);
