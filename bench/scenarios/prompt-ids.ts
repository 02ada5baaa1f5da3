/** CLIP special ids (openai vocab): <|startoftext|>, <|endoftext|> (also the pad id). */
export const BOS = 49406;
export const EOS = 49407;

/**
 * Deterministic token rows: BOS, `tokens - 2` ordinary ids, EOS, then EOS
 * padding up to `seq` (openai CLIP pads with EOS; pooling takes the first max,
 * i.e. the real EOT). Returns [batch * seq] int64.
 */
export function promptIds(batch: number, tokens: number, seq: number, seed = 1): BigInt64Array {
  if (tokens < 2 || tokens > seq) throw new Error(`promptIds: tokens ${tokens} not in 2..${seq}`);
  const out = new BigInt64Array(batch * seq);
  let state = seed >>> 0 || 1;
  for (let b = 0; b < batch; b++) {
    const row = b * seq;
    out[row] = BigInt(BOS);
    for (let i = 1; i < tokens - 1; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      out[row + i] = BigInt(256 + (state % 40000));
    }
    for (let i = tokens - 1; i < seq; i++) out[row + i] = BigInt(EOS);
  }
  return out;
}
