import { describe, expect, it } from "vitest";
import { parseA1111Multicond } from "../../../conditioning/prompt/a1111-multicond.ts";
import { parseA1111Schedule } from "../../../conditioning/prompt/a1111-schedule.ts";
import { readGolden } from "./golden.ts";

const lines = readGolden("a1111_attention.jsonl");

describe("A1111 get_learned_conditioning_prompt_schedules goldens (base_steps=20)", () => {
  it("covers all 199 texts, 70 with an explicit schedules_20", () => {
    expect(lines).toHaveLength(199);
    expect(lines.filter((l) => "schedules_20" in l)).toHaveLength(70);
  });

  it.each(lines.map((l) => [l.id as string, l] as const))("%s", (_id, line) => {
    const text = line.text as string;
    const want = (line.schedules_20 as [number, string][] | undefined) ?? [[20, text]];
    const got = parseA1111Schedule(text, 20);
    expect(got).toEqual(want.map(([endAtStep, t]) => ({ endAtStep, text: t })));
  });
});

describe("A1111 get_multicond_prompt_list goldens", () => {
  it("covers all 199 texts, 23 with an explicit multicond", () => {
    expect(lines.filter((l) => "multicond" in l)).toHaveLength(23);
  });

  it.each(lines.map((l) => [l.id as string, l] as const))("%s", (_id, line) => {
    const text = line.text as string;
    const want = (line.multicond as Record<string, unknown> | undefined) ?? {
      res_indexes: [[[0, 1.0]]],
      prompt_flat_list: [text],
      prompt_indexes: { [text]: 0 },
    };
    const got = parseA1111Multicond(text);
    expect({
      res_indexes: [got.parts.map((p) => [p.index, p.weight])],
      prompt_flat_list: got.texts,
      prompt_indexes: Object.fromEntries(got.texts.map((t, i) => [t, i])),
    }).toEqual(want);
  });
});
