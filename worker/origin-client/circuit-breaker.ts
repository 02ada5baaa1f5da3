/**
 * Circuit breaker for the origin: closed (requests pass) -> open after `failureThreshold`
 * consecutive failures (requests fail fast) -> half-open after `resetMs` (exactly one probe
 * request passes; success closes the circuit, failure re-opens it for another `resetMs`).
 * Time comes from `now` so tests and workers control it.
 */
export type BreakerState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  failureThreshold: number;
  resetMs: number;
  now: () => number;
}

export type Admission =
  | { allowed: true; probe: boolean }
  | { allowed: false; retryAfterMs: number };

export interface CircuitBreaker {
  /** Asks to send a request. A half-open admission is the single probe. */
  admit(): Admission;
  onSuccess(): void;
  onFailure(): void;
  /** A probe that ended without a verdict (e.g. the caller's bad input) frees the probe slot. */
  onNeutral(): void;
  state(): BreakerState;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const { failureThreshold, resetMs, now } = options;
  if (!(Number.isInteger(failureThreshold) && failureThreshold >= 1)) {
    throw new RangeError(
      `breaker failureThreshold must be a positive integer, got ${failureThreshold}`,
    );
  }
  if (!(resetMs >= 0)) throw new RangeError(`breaker resetMs must be >= 0, got ${resetMs}`);
  let state: BreakerState = "closed";
  let failures = 0;
  let openedAt = 0;
  let probeInFlight = false;

  function currentState(): BreakerState {
    if (state === "open" && now() - openedAt >= resetMs) state = "half-open";
    return state;
  }

  function open(): void {
    state = "open";
    openedAt = now();
    probeInFlight = false;
  }

  return {
    admit() {
      const s = currentState();
      if (s === "closed") return { allowed: true, probe: false };
      if (s === "half-open" && !probeInFlight) {
        probeInFlight = true;
        return { allowed: true, probe: true };
      }
      const retryAfterMs = s === "open" ? Math.max(0, resetMs - (now() - openedAt)) : resetMs;
      return { allowed: false, retryAfterMs };
    },
    onSuccess() {
      failures = 0;
      probeInFlight = false;
      state = "closed";
    },
    onFailure() {
      if (currentState() === "half-open") {
        open();
        return;
      }
      failures++;
      if (state === "closed" && failures >= failureThreshold) open();
    },
    onNeutral() {
      probeInFlight = false;
    },
    state: currentState,
  };
}
