import { ClipEdgeError } from "../errors.ts";
import { parseA1111Multicond } from "../prompt/a1111-multicond.ts";
import { parseA1111Schedule } from "../prompt/a1111-schedule.ts";

/** One conditioning of an A1111 prompt: an `AND` part's text for one step range. */
export interface CompositionEntry {
  /** Index of the `AND` part (0 without `AND`). */
  part: number;
  /** The scheduled text (emphasis syntax kept; the conditioner parses it like any prompt). */
  text: string;
  /** Composition weight (`AND ... :w`; 1 without one). */
  weight: number;
  /** 1-based inclusive sampling-step range. */
  steps: { start: number; end: number };
}

/**
 * The conditionings A1111 builds for one prompt: `get_multicond_learned_conditioning` (split on
 * `AND`, each part with its weight, then `get_learned_conditioning_prompt_schedules` per part:
 * `[end_step, text]` ranges). `splitAnd: false` is `get_learned_conditioning` (negative prompts:
 * schedules only, `AND` is plain text).
 */
export function a1111Composition(
  text: string,
  steps: number,
  options: { splitAnd?: boolean } = {},
): CompositionEntry[] {
  const parts =
    options.splitAnd === false
      ? [{ text, weight: 1 }]
      : parseA1111Multicond(text).parts.map((p) => ({ text: p.text, weight: p.weight }));
  return parts.flatMap((part, index) => {
    const schedule = parseA1111Schedule(part.text, steps);
    if ("error" in schedule) {
      throw new ClipEdgeError(
        "invalid_request",
        `prompt ${JSON.stringify(text.slice(0, 80))}: the A1111 schedule parser rejects it (${schedule.error})`,
        { details: { reference: schedule.error } },
      );
    }
    let start = 1;
    return schedule.map((entry): CompositionEntry => {
      const out = {
        part: index,
        text: entry.text,
        weight: part.weight,
        steps: { start, end: entry.endAtStep },
      };
      start = entry.endAtStep + 1;
      return out;
    });
  });
}
