/**
 * The import rules between the project's roots, and a checker for them.
 * Run by `npm run lint` (`tsx test/layout/import-rules.ts`) and by
 * test/layout/import-rules.test.ts.
 *
 * - `conditioning/` (the core) imports nothing outside itself: no Node, Workers or
 *   onnxruntime API, and no package but `zod` (pure JavaScript: the shared schemas of the
 *   request and the worker<->origin wire protocol live in the core).
 * - `node/` (the Node library) imports only `conditioning/`.
 * - `worker/` imports only `conditioning/` (and no `node:` builtin, no onnxruntime-node).
 * - `origin/`, `cli/` and `bench/` may import `node/` and `conditioning/`; `bench/` also
 *   imports `worker/`, whose real app it measures inside workerd.
 * - Nothing imports `origin/` or `cli/` (they are entry points).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOTS = ["conditioning", "node", "worker", "origin", "cli", "bench"] as const;
export type Root = (typeof ROOTS)[number];

interface RootRule {
  /** Roots this root may import (itself included). */
  roots: readonly Root[];
  /** May it import npm packages? `true`, or the only ones it may import. */
  packages: boolean | readonly string[];
  /** May it import `node:` builtins? */
  builtins: boolean;
  /** Packages it must never import. */
  banned?: readonly string[];
  /** Node globals it must not touch (the core runs in Workers and browsers). */
  noNodeGlobals?: boolean;
}

export const RULES: Record<Root, RootRule> = {
  conditioning: {
    roots: ["conditioning"],
    packages: ["zod"],
    builtins: false,
    noNodeGlobals: true,
  },
  node: { roots: ["conditioning", "node"], packages: true, builtins: true },
  worker: {
    roots: ["conditioning", "worker"],
    packages: true,
    builtins: false,
    banned: ["onnxruntime-node", "sharp", "@hono/node-server"],
  },
  origin: { roots: ["conditioning", "node", "origin"], packages: true, builtins: true },
  cli: { roots: ["conditioning", "node", "cli"], packages: true, builtins: true },
  bench: { roots: ["conditioning", "node", "worker", "bench"], packages: true, builtins: true },
};

export interface SourceFile {
  /** Repository-relative path with `/` separators, e.g. `worker/app.ts`. */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  specifier: string;
  reason: string;
}

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Every module specifier of a source text (static, side-effect and literal dynamic imports). */
export function specifiersOf(text: string): string[] {
  return [...stripComments(text).matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3]);
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

const NODE_GLOBAL = /\bBuffer\b|\bprocess\.|\brequire\(|\b__dirname\b/;

function rootOf(path: string): Root | undefined {
  const first = path.split("/")[0];
  return (ROOTS as readonly string[]).includes(first) ? (first as Root) : undefined;
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function checkPackage(name: string, rule: RootRule, from: Root, add: (reason: string) => void) {
  const allowed =
    rule.packages === true || (rule.packages !== false && rule.packages.includes(name));
  if (!allowed) add(`${from}/ may not import packages (found ${name})`);
  else if (rule.banned?.includes(name)) add(`${from}/ may not import ${name}`);
}

/** The rule violations of `files` (paths relative to the repository root). */
export function checkImports(files: readonly SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  for (const file of files) {
    const from = rootOf(file.path);
    if (!from) continue;
    const rule = RULES[from];
    const global = rule.noNodeGlobals ? stripComments(file.text).match(NODE_GLOBAL) : null;
    if (global) {
      violations.push({
        file: file.path,
        specifier: global[0],
        reason: `${from}/ may not use Node globals`,
      });
    }
    for (const specifier of specifiersOf(file.text)) {
      const add = (reason: string) => violations.push({ file: file.path, specifier, reason });
      if (specifier.startsWith(".")) {
        const target = posix.normalize(posix.join(posix.dirname(file.path), specifier));
        const to = rootOf(target);
        if (target.startsWith("node_modules/")) {
          checkPackage(packageName(target.slice("node_modules/".length)), rule, from, add);
        } else if (target.startsWith("..") || !to) {
          if (target.split("/")[0] !== from) add(`${from}/ may not import outside the roots`);
        } else if (!rule.roots.includes(to)) {
          add(`${from}/ may not import ${to}/ (allowed: ${rule.roots.join(", ")})`);
        }
      } else if (specifier.startsWith("node:")) {
        if (!rule.builtins) add(`${from}/ may not import Node builtins`);
      } else if (specifier.startsWith("cloudflare:")) {
        if (from !== "worker") add(`${from}/ may not import Workers APIs`);
      } else {
        checkPackage(packageName(specifier), rule, from, add);
      }
    }
  }
  return violations;
}

/** Root-level import edges, for the cycle check. */
export function rootGraph(files: readonly SourceFile[]): Map<Root, Set<Root>> {
  const graph = new Map<Root, Set<Root>>(ROOTS.map((r) => [r, new Set<Root>()]));
  for (const file of files) {
    const from = rootOf(file.path);
    if (!from) continue;
    for (const specifier of specifiersOf(file.text)) {
      if (!specifier.startsWith(".")) continue;
      const to = rootOf(posix.normalize(posix.join(posix.dirname(file.path), specifier)));
      if (to && to !== from) graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** A cycle between roots (as a path `a -> b -> a`), or undefined. */
export function findRootCycle(graph: Map<Root, Set<Root>>): string | undefined {
  const state = new Map<Root, "open" | "done">();
  const stack: Root[] = [];
  const visit = (r: Root): string | undefined => {
    if (state.get(r) === "done") return undefined;
    if (state.get(r) === "open") return [...stack.slice(stack.indexOf(r)), r].join(" -> ");
    state.set(r, "open");
    stack.push(r);
    for (const next of graph.get(r) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(r, "done");
    return undefined;
  };
  for (const r of ROOTS) {
    const cycle = visit(r);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The TypeScript / JavaScript sources under the roots of the repository at `repoRoot`. */
export function readSources(repoRoot: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && !entry.name.startsWith(".")) walk(full);
      } else if (/\.(ts|mts|mjs|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        out.push({
          path: relative(repoRoot, full).split(sep).join("/"),
          text: readFileSync(full, "utf8"),
        });
      }
    }
  };
  for (const root of ROOTS) walk(join(repoRoot, root));
  return out;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const files = readSources(repoRoot);
  const violations = checkImports(files);
  for (const v of violations) console.error(`${v.file}: import "${v.specifier}": ${v.reason}`);
  const cycle = findRootCycle(rootGraph(files));
  if (cycle) console.error(`import cycle between roots: ${cycle}`);
  if (violations.length > 0 || cycle) process.exit(1);
  console.log(`import rules: ${files.length} files under ${ROOTS.join(", ")}, no violation`);
}
