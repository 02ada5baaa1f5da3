import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  LIMIT_VAR_NAMES,
  LIMIT_VARS,
  type LimitVars,
  readLimits,
} from "../../../worker/config/limits.ts";

/** `KEY = "value"` lines of wrangler.toml's top-level [vars] table. */
function wranglerVars(): Record<string, string> {
  const toml = readFileSync(new URL("../../../wrangler.toml", import.meta.url), "utf8");
  const section = /^\[vars\]\n([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(toml)?.[1] ?? "";
  return Object.fromEntries(
    [...section.matchAll(/^([A-Z_][A-Z0-9_]*)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]),
  );
}

describe("limits: defaults in limits.ts, overrides by var", () => {
  it("wrangler.toml sets only DEFAULT_MODEL and known overrides, none equal to its default", () => {
    const vars = wranglerVars();
    expect(vars.DEFAULT_MODEL).toBeTruthy();
    const { DEFAULT_MODEL: _model, ...overrides } = vars;
    for (const name of Object.keys(overrides)) {
      expect(LIMIT_VAR_NAMES, `${name} is not a var limits.ts reads`).toContain(name);
    }
    const limits = readLimits(overrides as LimitVars);
    for (const [key, name] of Object.entries(LIMIT_VARS)) {
      if (name in overrides) {
        expect(
          limits[key as keyof typeof LIMIT_VARS],
          `${name} repeats the default of limits.ts`,
        ).not.toBe(DEFAULT_LIMITS[key as keyof typeof LIMIT_VARS]);
      }
    }
  });

  it("reads overrides and names a malformed var", () => {
    expect(readLimits({})).toEqual(DEFAULT_LIMITS);
    const limits = readLimits({ MAX_BODY_BYTES: "131072", ALLOW_PRIVATE_IMAGE_HOSTS: "true" });
    expect(limits).toEqual({
      ...DEFAULT_LIMITS,
      maxBodyBytes: 131072,
      allowPrivateImageHosts: true,
    });
    expect(() => readLimits({ MAX_PROMPTS: "0" })).toThrow(
      /MAX_PROMPTS="0" must be an integer >= 1/,
    );
    expect(() => readLimits({ ALLOW_PRIVATE_IMAGE_HOSTS: "maybe" })).toThrow(
      /ALLOW_PRIVATE_IMAGE_HOSTS/,
    );
  });
});
