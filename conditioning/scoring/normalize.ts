import { ClipEdgeError } from "../errors.ts";

/** L2-normalises a vector (float64 accumulation); a zero vector stays zero. */
export function l2Normalize(vector: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i] / norm;
  return out;
}

/** L2-normalises each row of a row-major [rows, dim] matrix. */
export function l2NormalizeRows(data: Float32Array, dim: number): Float32Array {
  if (dim <= 0 || data.length % dim !== 0) {
    throw new ClipEdgeError(
      "invalid_input",
      `cannot split ${data.length} values into rows of ${dim}`,
    );
  }
  const out = new Float32Array(data.length);
  for (let r = 0; r < data.length / dim; r++) {
    out.set(l2Normalize(data.subarray(r * dim, (r + 1) * dim)), r * dim);
  }
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new ClipEdgeError(
      "invalid_input",
      `vectors of length ${a.length} and ${b.length} cannot be compared`,
    );
  }
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Cosine similarity of two (not necessarily normalised) vectors. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return dot(l2Normalize(a), l2Normalize(b));
}
