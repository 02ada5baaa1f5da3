import { describe, expect, it } from "vitest";
import { createCircuitBreaker } from "../../../worker/origin-client/circuit-breaker.ts";

describe("circuit breaker", () => {
  it("opens after N consecutive failures, half-opens after resetMs for one probe, closes on success", () => {
    let t = 0;
    const b = createCircuitBreaker({ failureThreshold: 3, resetMs: 1000, now: () => t });
    b.onFailure();
    b.onFailure();
    b.onSuccess(); // resets the count
    b.onFailure();
    b.onFailure();
    expect(b.state()).toBe("closed");
    b.onFailure();
    expect(b.state()).toBe("open");
    expect(b.admit()).toEqual({ allowed: false, retryAfterMs: 1000 });
    t = 999;
    expect(b.admit().allowed).toBe(false);
    t = 1000;
    expect(b.state()).toBe("half-open");
    expect(b.admit()).toEqual({ allowed: true, probe: true });
    expect(b.admit().allowed).toBe(false); // single probe
    b.onSuccess();
    expect(b.state()).toBe("closed");
    expect(b.admit()).toEqual({ allowed: true, probe: false });
  });

  it("re-opens for another resetMs when the probe fails", () => {
    let t = 0;
    const b = createCircuitBreaker({ failureThreshold: 1, resetMs: 500, now: () => t });
    b.onFailure();
    t = 600;
    expect(b.admit()).toEqual({ allowed: true, probe: true });
    b.onFailure();
    expect(b.state()).toBe("open");
    t = 1099;
    expect(b.admit().allowed).toBe(false);
    t = 1100;
    expect(b.admit().allowed).toBe(true);
  });

  it("frees the probe slot on a neutral outcome", () => {
    let t = 0;
    const b = createCircuitBreaker({ failureThreshold: 1, resetMs: 10, now: () => t });
    b.onFailure();
    t = 10;
    expect(b.admit().allowed).toBe(true);
    b.onNeutral();
    expect(b.admit()).toEqual({ allowed: true, probe: true });
  });
});
