/**
 * workerd binds I/O to the request that started it, and a promise continuation
 * runs in the context of whichever request resolved the promise. When request
 * B awaits work that request A finishes (a shared model load, a micro-batch run
 * by A), B must not resume inside A's context, or B's own I/O (Cache API,
 * response bodies) fails with "Cannot perform I/O on behalf of a different
 * request". These helpers make the waiter resume from its own timers: the
 * other context only sets a plain flag.
 */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Settled<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
}

/** Resolves when `isDone()` is true, polling on this request's own timers (1 ms, backing off to 16 ms). */
export async function pollUntil(isDone: () => boolean, maxDelayMs = 16): Promise<void> {
  let delay = 1;
  while (!isDone()) {
    await sleep(delay);
    delay = Math.min(delay * 2, maxDelayMs);
  }
}

/** Awaits a promise that another request may settle, resuming in the caller's context. */
export async function awaitShared<T>(promise: Promise<T>): Promise<T> {
  let settled: Settled<T> | undefined;
  promise.then(
    (value) => {
      settled = { ok: true, value };
    },
    (error) => {
      settled = { ok: false, error };
    },
  );
  // Already-settled promises resolve within a microtask turn: no timer needed.
  await Promise.resolve();
  await Promise.resolve();
  if (!settled) await pollUntil(() => settled !== undefined);
  const result = settled as unknown as Settled<T>;
  if (!result.ok) throw result.error;
  return result.value as T;
}
