using Weft.Core;

namespace Weft.Models.Synth;

/// <summary>Encodes rows of floats into a tensor type's bytes (one call may hold several whole rows).</summary>
/// <param name="type">The destination type.</param>
/// <param name="source">Floats; the length is a multiple of the row width, itself a multiple of the block size.</param>
/// <param name="destination">Exactly <c>source.Length / BlockSize * TypeSize</c> bytes.</param>
public delegate void RowEncoder(DType type, ReadOnlySpan<float> source, Span<byte> destination);
