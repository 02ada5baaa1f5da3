/**
 * Seeded normal samples (Box-Muller over a 32-bit LCG): the same `seed` gives
 * the same values on every runtime. For tests and benchmarks that need random
 * activations or weights; the synthetic checkpoints have their own generator.
 */
export function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < n; i++)
    out[i] = scale * Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  return out;
}
