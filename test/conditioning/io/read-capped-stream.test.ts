import { describe, expect, it } from "vitest";
import { readCappedStream } from "../../../conditioning/io/read-capped-stream.ts";

/** A stream of the given chunks that records whether it was cancelled and how far it was read. */
function chunked(chunks: number[][]) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks.length) return controller.close();
      controller.enqueue(Uint8Array.from(chunks[state.pulled++]));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

describe("readCappedStream", () => {
  it("joins the chunks of a stream within the cap (null body: no bytes)", async () => {
    const { stream } = chunked([[1, 2], [3], [4, 5, 6]]);
    expect(Array.from(await readCappedStream(stream, 6, () => new Error("big")))).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(await readCappedStream(null, 0, () => new Error("big"))).toHaveLength(0);
  });

  it("cancels the stream and throws as soon as the total passes the cap", async () => {
    const { stream, state } = chunked([[1, 2], [3, 4], [5], [6]]);
    await expect(readCappedStream(stream, 3, () => new Error("over 3"))).rejects.toThrow("over 3");
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(4);
  });
});
