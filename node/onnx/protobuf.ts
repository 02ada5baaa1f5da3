/**
 * Minimal protobuf writer producing chunked output: a message is a list of
 * Uint8Array chunks plus its total length. Large payloads (tensor raw_data) are
 * kept as references, never copied, so a 500 MB model is written without a
 * second 500 MB buffer.
 */
export interface Encoded {
  chunks: Uint8Array[];
  length: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LENGTH = 2;

export function varintBytes(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** Builds one message field by field. */
export class MessageWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;
  private small: number[] = [];

  private flushSmall(): void {
    if (this.small.length > 0) {
      this.chunks.push(Uint8Array.from(this.small));
      this.length += this.small.length;
      this.small = [];
    }
  }

  private pushBytes(bytes: Uint8Array): void {
    if (bytes.byteLength < 64) {
      for (const b of bytes) this.small.push(b);
    } else {
      this.flushSmall();
      this.chunks.push(bytes);
      this.length += bytes.byteLength;
    }
  }

  private tag(field: number, wire: number): void {
    this.pushBytes(varintBytes((field << 3) | wire));
  }

  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.pushBytes(varintBytes(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.pushBytes(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH);
    this.pushBytes(varintBytes(value.byteLength));
    this.pushBytes(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Encoded): this {
    this.tag(field, WIRE_LENGTH);
    this.pushBytes(varintBytes(value.length));
    this.flushSmall();
    for (const chunk of value.chunks) this.chunks.push(chunk);
    this.length += value.length;
    return this;
  }

  /** Packed repeated varints (proto3 default for repeated scalars). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const parts = values.map((v) => varintBytes(v));
    const total = parts.reduce((a, p) => a + p.byteLength, 0);
    this.tag(field, WIRE_LENGTH);
    this.pushBytes(varintBytes(total));
    for (const p of parts) this.pushBytes(p);
    return this;
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytes(field, b);
  }

  finish(): Encoded {
    this.flushSmall();
    return { chunks: this.chunks, length: this.length };
  }
}

/** Concatenates an encoded message into one buffer (for small models / in-memory sessions). */
export function concatEncoded(encoded: Encoded): Uint8Array {
  const out = new Uint8Array(encoded.length);
  let offset = 0;
  for (const chunk of encoded.chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
