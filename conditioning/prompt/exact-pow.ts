/**
 * `base ** n` for a positive integer n, correctly rounded (round-half-even) like C's `pow()`,
 * which CPython calls. V8's `**` multiplies step by step for integer exponents, so
 * `1.1 ** 4` is 1.4641000000000006 in JavaScript but 1.4641000000000004 in Python.
 * Exact: the double `base` is m * 2^e, so base^n = m^n * 2^(e*n), rounded once.
 */
export function exactPowInt(base: number, n: number): number {
  if (!Number.isInteger(n) || n < 0) return base ** n;
  if (n === 0) return 1;
  if (base === 0 || !Number.isFinite(base) || base < 0) return base ** n;
  const log2 = n * Math.log2(base);
  if (log2 > 1030) return Number.POSITIVE_INFINITY;
  if (log2 < -1080) return 0;
  // decompose base = m * 2^e with integer m
  let m = base;
  let e = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    e -= 1;
  }
  const p = BigInt(m) ** BigInt(n);
  const bits = p.toString(2).length;
  let exp = e * n;
  if (bits <= 53) return scale(Number(p), exp);
  const shift = bits - 53;
  let q = p >> BigInt(shift);
  const rem = p & ((1n << BigInt(shift)) - 1n);
  const half = 1n << BigInt(shift - 1);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  exp += shift;
  return scale(Number(q), exp);
}

/** x * 2^exp without intermediate overflow/underflow of the power of two. */
function scale(x: number, exp: number): number {
  while (exp > 1000) {
    x *= 2 ** 1000;
    exp -= 1000;
  }
  while (exp < -1000) {
    x *= 2 ** -1000;
    exp += 1000;
  }
  return x * 2 ** exp;
}
