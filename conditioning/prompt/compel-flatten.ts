import {
  type CompelConjunction,
  type CompelFragment,
  type CompelNode,
  CompelParseError,
  makeFragment,
  type OptionValue,
  reprFloats,
  reprNode,
} from "./compel-nodes.ts";
import { makeSwap } from "./compel-operators.ts";

/** `[text, weight]` pairs: what compel feeds its embeddings provider for one prompt. */
export type CompelPairs = [string, number][];

export interface CompelSwapEdit {
  original: CompelPairs;
  edited: CompelPairs;
  options: Record<string, OptionValue>;
}

/** One part of the flattened Conjunction, exactly the goldens' `fragments` entries. */
export type CompelPart =
  | { kind: "prompt"; conjunction_weight: number; fragments: CompelPairs }
  | {
      kind: "blend";
      conjunction_weight: number;
      blend_weights: number[];
      normalize_weights: boolean;
      prompts: CompelPairs[];
    }
  | {
      kind: "swap";
      conjunction_weight: number;
      original: CompelPairs;
      edited: CompelPairs;
      edits: CompelSwapEdit[];
    };

export interface CompelResult {
  fragments: CompelPart[];
  lora_weights: [string, number][];
}

interface FlatSwap {
  type: "swap";
  original: FlatItem[];
  edited: FlatItem[];
  options: Record<string, OptionValue>;
}
type FlatItem = CompelFragment | FlatSwap;

function flattenNodes(nodes: CompelNode[], scale: number, loras: [string, number][]): FlatItem[] {
  const out: FlatItem[] = [];
  for (const node of nodes) {
    switch (node.type) {
      case "fragment":
        out.push(makeFragment(node.text, node.weight * scale));
        break;
      case "attention":
        out.push(...flattenNodes(node.children, scale * node.weight, loras));
        break;
      case "lora":
        loras.push([node.model, node.weight]);
        break;
      case "swap": {
        const original = flattenNodes(node.original, scale, loras);
        const edited = flattenNodes(node.edited, scale, loras);
        out.push(
          makeSwap(original as CompelNode[], edited as CompelNode[], node.options) as FlatSwap,
        );
        break;
      }
    }
  }
  return out;
}

function hasEscape(text: string): boolean {
  return text.includes('\\"') || text.includes("\\(") || text.includes("\\)");
}

/**
 * compel `fuse_fragments`: adjacent fragments of equal weight joined with one space (each join
 * builds a new Fragment, which unescapes the whole text again). The unescape cannot cross the
 * joining space, so when the left text has nothing to unescape only the right text is scanned:
 * linear, where the reference is quadratic in the number of fused words.
 */
function fuse(items: FlatItem[]): FlatItem[] {
  const fused: FlatItem[] = [];
  const clean: boolean[] = [];
  for (const x of items) {
    if (x.type === "swap") {
      fused.push(
        makeSwap(
          fuse(x.original) as CompelNode[],
          fuse(x.edited) as CompelNode[],
          x.options,
        ) as FlatSwap,
      );
      clean.push(true);
      continue;
    }
    const last = fused[fused.length - 1];
    if (last !== undefined && last.type === "fragment" && last.weight === x.weight) {
      let joined: CompelFragment;
      if (clean[clean.length - 1]) {
        const tail = makeFragment(x.text, x.weight).text;
        joined = { type: "fragment", text: `${last.text} ${tail}`, weight: last.weight };
        clean[clean.length - 1] = !hasEscape(tail);
      } else {
        joined = makeFragment(`${last.text} ${x.text}`, last.weight);
        clean[clean.length - 1] = !hasEscape(joined.text);
      }
      fused[fused.length - 1] = joined;
    } else {
      fused.push(x);
      clean.push(!hasEscape(x.text));
    }
  }
  return fused;
}

function pairs(items: FlatItem[]): CompelPairs {
  return items.map((f) => (f.type === "fragment" ? [f.text, f.weight] : ["", Number.NaN]));
}

function promptPart(children: FlatItem[], weight: number): CompelPart {
  if (!children.some((c) => c.type === "swap")) {
    return { kind: "prompt", conjunction_weight: weight, fragments: pairs(children) };
  }
  const original: FlatItem[] = [];
  const edited: FlatItem[] = [];
  const edits: CompelSwapEdit[] = [];
  for (const c of children) {
    if (c.type === "swap") {
      original.push(...c.original);
      edited.push(...c.edited);
      edits.push({ original: pairs(c.original), edited: pairs(c.edited), options: c.options });
    } else {
      original.push(c);
      edited.push(c);
    }
  }
  return {
    kind: "swap",
    conjunction_weight: weight,
    original: pairs(original),
    edited: pairs(edited),
    edits,
  };
}

/** compel `PromptParser.flatten` followed by the per-part view compel's embedding code takes. */
export function flattenCompel(root: CompelConjunction): CompelResult {
  const loras: [string, number][] = [];
  const fragments: CompelPart[] = [];
  root.prompts.forEach((part, i) => {
    const weight = root.weights[i];
    if (Array.isArray(part)) {
      const fused = fuse(flattenNodes(part, 1.0, loras));
      if (fused.length > 0) fragments.push(promptPart(fused, weight));
      return;
    }
    const prompts: FlatItem[][] = [];
    for (const p of part.prompts) {
      const fused = fuse(flattenNodes(p, 1.0, loras));
      if (fused.length > 0) prompts.push(fused);
    }
    if (prompts.length !== part.weights.length) {
      const repr = `[${prompts.map((p) => `FlattenedPrompt:${reprNode(p as CompelNode[])}`).join(", ")}]`;
      throw new CompelParseError(
        "ParsingException",
        `while parsing Blend: mismatched prompts/weights counts ${repr}, ${reprFloats(part.weights)}`,
      );
    }
    if (prompts.some((p) => p.some((c) => c.type === "swap"))) {
      throw new CompelParseError(
        "ParsingException",
        "while parsing Blend: sorry, you cannot do .swap() as part of a Blend",
      );
    }
    fragments.push({
      kind: "blend",
      conjunction_weight: weight,
      blend_weights: part.weights,
      normalize_weights: part.normalizeWeights,
      prompts: prompts.map(pairs),
    });
  });
  return { fragments, lora_weights: loras };
}
