import { type CompelResult, flattenCompel } from "./compel-flatten.ts";
import { CompelGrammar } from "./compel-grammar.ts";
import { type CompelConjunction, CompelParseError } from "./compel-nodes.ts";
import { isPyWhitespace, PY_WS_CLASS, pyExpandTabs } from "./py-text.ts";

/**
 * Deepest `(` nesting accepted. compel itself needs ~100 s at depth 8; ours is linear in the
 * text, and its recursion (about ten stack frames per level) stays far from the stack limit.
 */
export const COMPEL_MAX_DEPTH = 200;

const COMMA_RE = new RegExp(`,([^${PY_WS_CLASS}])`, "gu");

function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (const c of text) {
    if (c === "(") max = Math.max(max, ++depth);
    else if (c === ")" && depth > 0) depth -= 1;
  }
  return max;
}

/** compel `parse_conjunction` up to (not including) flatten: the tree, or null for blank input. */
export function parseCompelTree(text: string): CompelConjunction | null {
  const prompt = text.replace(COMMA_RE, ", $1");
  if ([...prompt].every(isPyWhitespace)) return null;
  const depth = nestingDepth(prompt);
  if (depth > COMPEL_MAX_DEPTH) {
    throw new CompelParseError(
      "RecursionLimit",
      `parentheses nested ${depth} deep (limit ${COMPEL_MAX_DEPTH})`,
    );
  }
  return new CompelGrammar(pyExpandTabs(prompt)).conjunction();
}

/**
 * compel `PromptParser().parse_conjunction(text)` flattened into the parts compel embeds
 * (the goldens' `fragments`), plus LoRA references. Errors compel raises come back as
 * `{ error: "<PythonType>: <message>" }`.
 */
export function parseCompel(text: string): CompelResult | { error: string } {
  try {
    const tree = parseCompelTree(text);
    if (tree === null) {
      return {
        fragments: [{ kind: "prompt", conjunction_weight: 1.0, fragments: [["", 1.0]] }],
        lora_weights: [],
      };
    }
    return flattenCompel(tree);
  } catch (error) {
    if (error instanceof CompelParseError) return { error: error.message };
    if (error instanceof RangeError) {
      // safety net: the depth limit keeps recursion bounded, but never crash on a small stack
      return { error: `RecursionLimit: prompt too deeply nested (${error.message})` };
    }
    throw error;
  }
}
