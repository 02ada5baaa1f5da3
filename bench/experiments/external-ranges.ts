/**
 * Byte ranges of the external-data initializers of an ONNX model: a minimal
 * protobuf walk of ModelProto.graph(7).initializer(5).external_data(13)
 * {key(1), value(2)} entries (location / offset / length).
 */
export interface ExternalRange {
  name: string;
  location: string;
  offset: number;
  length: number;
}

function varint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 1;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * shift;
    if (b < 0x80) return [result, pos];
    shift *= 128;
  }
}

/** Calls `onField(field, start, end)` for each length-delimited field of a message. */
function fields(
  buf: Uint8Array,
  start: number,
  end: number,
  onField: (field: number, s: number, e: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    const [tag, p] = varint(buf, pos);
    pos = p;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) pos = varint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, q] = varint(buf, pos);
      onField(field, q, q + len);
      pos = q + len;
    } else throw new Error(`protobuf: unsupported wire type ${wire} at ${pos}`);
  }
}

const text = new TextDecoder();

export function externalRanges(model: Uint8Array): ExternalRange[] {
  const out: ExternalRange[] = [];
  fields(model, 0, model.byteLength, (f, s, e) => {
    if (f !== 7) return;
    fields(model, s, e, (g, gs, ge) => {
      if (g !== 5) return;
      let name = "";
      const entry: Record<string, string> = {};
      fields(model, gs, ge, (t, ts, te) => {
        if (t === 8) name = text.decode(model.subarray(ts, te));
        if (t !== 13) return;
        let key = "";
        let value = "";
        fields(model, ts, te, (k, ks, ke) => {
          if (k === 1) key = text.decode(model.subarray(ks, ke));
          if (k === 2) value = text.decode(model.subarray(ks, ke));
        });
        entry[key] = value;
      });
      if (entry.location) {
        out.push({
          name,
          location: entry.location,
          offset: Number(entry.offset ?? 0),
          length: Number(entry.length),
        });
      }
    });
  });
  return out;
}
