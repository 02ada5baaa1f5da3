/**
 * External data that is released while onnxruntime-web consumes it.
 *
 * onnxruntime-web (1.30) keeps each `externalData` entry that is already a
 * Uint8Array as is, and its loader only calls `byteLength` and
 * `subarray(begin, end)` on it, copying each initializer into the WASM heap.
 * This Uint8Array subclass serves those calls from per-tensor chunks (e.g.
 * one R2 range read per initializer) and drops each chunk once served, so
 * the JS copy shrinks while the WASM heap grows instead of both peaking
 * together. It also samples memory at each call (the only JS that runs
 * during session creation) to measure the load-time peak.
 */
export interface Chunk {
  offset: number;
  data: Uint8Array | undefined;
}

export interface ReleasingOptions {
  /** Drop chunks once served (false: keep them, only meter). */
  release: boolean;
  /** Called at each read with the bytes still held; returns nothing. */
  onRead?: (heldBytes: number) => void;
}

export class ReleasingBytes extends Uint8Array {
  readonly #chunks: Chunk[];
  readonly #total: number;
  readonly #options: ReleasingOptions;
  #held: number;

  constructor(chunks: Chunk[], total: number, options: ReleasingOptions) {
    super(0);
    this.#chunks = [...chunks].sort((a, b) => a.offset - b.offset);
    this.#total = total;
    this.#options = options;
    this.#held = chunks.reduce((n, c) => n + (c.data?.byteLength ?? 0), 0);
  }

  override get byteLength(): number {
    return this.#total;
  }

  get heldBytes(): number {
    return this.#held;
  }

  override subarray(begin = 0, end = this.#total): Uint8Array<ArrayBuffer> {
    const out = this.#find(begin, end);
    this.#options.onRead?.(this.#held);
    return out as Uint8Array<ArrayBuffer>;
  }

  #find(begin: number, end: number): Uint8Array {
    // Exact tensor chunk (the common case): hand it over and forget it.
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#chunks[mid].offset <= begin) lo = mid;
      else hi = mid - 1;
    }
    const chunk = this.#chunks[lo];
    if (!chunk?.data) throw new Error(`external data [${begin}, ${end}) already released`);
    const local = begin - chunk.offset;
    if (local + (end - begin) > chunk.data.byteLength) {
      throw new Error(`external data [${begin}, ${end}) spans chunks`);
    }
    const view = chunk.data.subarray(local, local + (end - begin));
    if (this.#options.release && local === 0 && end - begin === chunk.data.byteLength) {
      this.#held -= chunk.data.byteLength;
      chunk.data = undefined;
    }
    return view;
  }
}
