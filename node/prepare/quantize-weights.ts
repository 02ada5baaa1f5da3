/**
 * Weight quantisation math (pure functions over Float32Array).
 * Conventions follow onnxruntime's own quantizer: symmetric int8 weights
 * (zero point 0) for MatMulInteger, asymmetric uint4 blocks with packed zero
 * points for MatMulNBits.
 */

export interface Int8Columns {
  /** [in, out] int8, transposed for MatMulInteger(x [.., in], B [in, out]). */
  data: Int8Array;
  /** Per output column scale, [out]. */
  scales: Float32Array;
}

/** Per-output-column symmetric int8 of a torch Linear weight [out, in]. */
export function quantizeInt8PerColumn(weight: Float32Array, out: number, inp: number): Int8Columns {
  const data = new Int8Array(out * inp);
  const scales = new Float32Array(out);
  for (let n = 0; n < out; n++) {
    let max = 0;
    const row = n * inp;
    for (let k = 0; k < inp; k++) max = Math.max(max, Math.abs(weight[row + k]));
    const scale = max > 0 ? max / 127 : 1;
    scales[n] = scale;
    for (let k = 0; k < inp; k++) {
      const q = Math.round(weight[row + k] / scale);
      data[k * out + n] = Math.max(-127, Math.min(127, q));
    }
  }
  return { data, scales };
}

export interface Int8Rows {
  /** [rows, cols] int8. */
  data: Int8Array;
  /** Per-row scale, [rows]. */
  scales: Float32Array;
}

/** Per-row symmetric int8 (token-embedding tables). */
export function quantizeInt8PerRow(table: Float32Array, rows: number, cols: number): Int8Rows {
  const data = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(table[base + c]));
    const scale = max > 0 ? max / 127 : 1;
    scales[r] = scale;
    for (let c = 0; c < cols; c++) {
      data[base + c] = Math.max(-127, Math.min(127, Math.round(table[base + c] / scale)));
    }
  }
  return { data, scales };
}

export interface Q4Blocks {
  /** [N, kBlocks, blockSize/2] packed uint4, low nibble first. */
  data: Uint8Array;
  /** [N * kBlocks] float. */
  scales: Float32Array;
  /** [N * ceil(kBlocks/2)] packed uint4 zero points, low nibble first. */
  zeroPoints: Uint8Array;
  kBlocks: number;
}

/**
 * 4-bit block quantisation of a torch Linear weight [N=out, K=in] along K, as
 * com.microsoft MatMulNBits expects: dequant(b) = (code - zp) * scale. K is
 * zero-padded up to a multiple of blockSize.
 */
export function quantizeQ4Blocks(
  weight: Float32Array,
  n: number,
  k: number,
  blockSize = 32,
): Q4Blocks {
  const kBlocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const data = new Uint8Array(n * kBlocks * blob);
  const scales = new Float32Array(n * kBlocks);
  const zpStride = Math.ceil(kBlocks / 2);
  const zeroPoints = new Uint8Array(n * zpStride);
  const codes = new Uint8Array(blockSize);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < kBlocks; b++) {
      const start = b * blockSize;
      const end = Math.min(k, start + blockSize);
      let min = 0;
      let max = 0;
      for (let i = start; i < end; i++) {
        const v = weight[row * k + i];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const scale = max > min ? (max - min) / 15 : 1;
      const zp = Math.max(0, Math.min(15, Math.round(-min / scale)));
      scales[row * kBlocks + b] = scale;
      codes.fill(zp);
      for (let i = start; i < end; i++) {
        codes[i - start] = Math.max(0, Math.min(15, Math.round(weight[row * k + i] / scale) + zp));
      }
      const base = (row * kBlocks + b) * blob;
      for (let j = 0; j < blob; j++) data[base + j] = codes[2 * j] | (codes[2 * j + 1] << 4);
      const zpIndex = row * zpStride + (b >> 1);
      zeroPoints[zpIndex] |= b & 1 ? zp << 4 : zp;
    }
  }
  return { data, scales, zeroPoints, kBlocks };
}
