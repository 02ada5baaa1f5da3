import { createConditioner } from "../../../conditioning/conditioner/conditioner.ts";
import { createFakeTextSession, tensorFactory } from "./fake-text-session.ts";
import { fixtureTokenizer } from "./helpers.ts";

/** Conditioners over fake text graphs (see fake-text-session.ts) for the pipeline tests. */
export const tokenizer = fixtureTokenizer();
export const ids77 = (text: string, pad: number) => tokenizer.encodeForModel(text, { pad }).ids;

export function sd15(options: { exported?: number } = {}) {
  const session = createFakeTextSession({ width: 8, exported: options.exported });
  const conditioner = createConditioner({
    preset: "sd15",
    encoders: [{ id: "tiny", hash: "abc", session, tokenizer }],
    tensorFactory,
  });
  return { session, conditioner };
}

export function sdxl() {
  const s1 = createFakeTextSession({ width: 4 });
  const s2 = createFakeTextSession({ width: 6, projection: 5 });
  const conditioner = createConditioner({
    preset: "sdxl",
    encoders: [
      { id: "l", session: s1, tokenizer },
      { id: "g", session: s2, tokenizer },
    ],
    tensorFactory,
  });
  return { s1, s2, conditioner };
}
