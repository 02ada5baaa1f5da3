/**
 * Reads a web byte stream whole, but never past `maxBytes`: the stream is
 * cancelled and `tooLarge()` thrown as soon as the running total exceeds the
 * cap, so a body is never buffered beyond it. Web streams only (Request /
 * Response bodies in workerd and Node): the origin's request bodies and the
 * worker's fetched images share it.
 */
export async function readCappedStream(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
