/**
 * Issue #14 part 3, shared by the Node runner (run-node.ts) and the workerd
 * worker (bench/workerd/kernel-worker.ts): the CLIP-L GEMM shapes, seeded
 * inputs, a plain JS reference, and one `run()` per kernel (the spike's two
 * WASM forms and onnxruntime-web's MatMulInteger). No Node or Workers API here.
 */
import type { TensorLike } from "../../conditioning/encoder/session.ts";
import type { OrtRuntime } from "../../worker/runtime/ort-runtime.ts";

export interface GemmShape {
  label: string;
  m: number;
  k: number;
  n: number;
}

/** The text encoder's int8 Linears at 77 tokens: fused qkv, fc1, fc2. */
export const SHAPES: GemmShape[] = [
  { label: "qkv [77,768]x[768,2304]", m: 77, k: 768, n: 2304 },
  { label: "fc1 [77,768]x[768,3072]", m: 77, k: 768, n: 3072 },
  { label: "fc2 [77,3072]x[3072,768]", m: 77, k: 3072, n: 768 },
];

export const KERNELS = [
  "ort-matmulinteger",
  "simd-4x4",
  "relaxed-exact",
  "relaxed-u7",
  "relaxed-u7-6x8",
  "relaxed-exact-i16",
  "relaxed-u7-i16",
  "relaxed-u7-6x8-i16",
] as const;
export type KernelName = (typeof KERNELS)[number];

export function gemmOps(s: GemmShape): number {
  return 2 * s.m * s.n * s.k;
}

export interface GemmInputs {
  /** u8 activations, zero point 128 (the shipped int8Linear lowering). */
  a: Uint8Array;
  /** 7-bit activations, zero point 64 (what `relaxed-u7` needs). */
  a7: Uint8Array;
  b: Int8Array;
}

export function gemmInputs(s: GemmShape, seed: number): GemmInputs {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  };
  const a = Uint8Array.from({ length: s.m * s.k }, next);
  const a7 = a.map((v) => v >> 1);
  const b = Int8Array.from({ length: s.k * s.n }, () => next() - 128);
  return { a, a7, b };
}

/** C = (A - azp) B in i32, the plain way. */
export function referenceGemm(s: GemmShape, a: Uint8Array, b: Int8Array, azp: number): Int32Array {
  const c = new Int32Array(s.m * s.n);
  for (let m = 0; m < s.m; m++) {
    const row = m * s.n;
    for (let k = 0; k < s.k; k++) {
      const x = a[m * s.k + k] - azp;
      const brow = k * s.n;
      for (let n = 0; n < s.n; n++) c[row + n] += x * b[brow + n];
    }
  }
  return c;
}

export function firstMismatch(want: Int32Array, got: ArrayLike<number>): number {
  if (got.length < want.length) return got.length;
  for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) return i;
  return -1;
}

export interface GemmRun {
  run(): Promise<void> | void;
  /** The last result, [M][N]. */
  output(): Int32Array;
}

interface GemmExports {
  memory: WebAssembly.Memory;
  buf_a(): number;
  buf_b(): number;
  buf_c(): number;
  pack_b(k: number, n: number): void;
  [fn: string]: unknown;
}

/**
 * One exported gemm_* of an instance of bench/.out/kernels/gemm-*.wasm, with A
 * and B written in and B packed (untimed, as onnxruntime prepacks constant B).
 */
export function createWasmGemm(
  instance: WebAssembly.Instance,
  fn: "gemm_simd" | "gemm_relaxed" | "gemm_relaxed_u7" | "gemm_relaxed_u7_6x8",
  s: GemmShape,
  a: Uint8Array,
  b: Int8Array,
  azp: number,
): GemmRun {
  const x = instance.exports as unknown as GemmExports;
  const gemm = x[fn] as (m: number, k: number, n: number, azp: number) => void;
  new Int8Array(x.memory.buffer, x.buf_b(), b.length).set(b);
  x.pack_b(s.k, s.n);
  const write = () => new Uint8Array(x.memory.buffer, x.buf_a(), a.length).set(a);
  write();
  return {
    run: () => gemm(s.m, s.k, s.n, azp),
    output: () => new Int32Array(x.memory.buffer, x.buf_c(), s.m * s.n).slice(),
  };
}

/** onnxruntime-web's MatMulInteger on a one-node graph (see run-node.ts buildMatMulIntegerModel). */
export async function createOrtGemm(
  runtime: OrtRuntime,
  modelBytes: Uint8Array,
  s: GemmShape,
  a: Uint8Array,
): Promise<GemmRun> {
  const session = await runtime.createSession(modelBytes, `matmulinteger ${s.label}`);
  const feeds: Record<string, TensorLike> = { a: runtime.tensor("uint8", a, [s.m, s.k]) };
  let last: Int32Array = new Int32Array(0);
  return {
    run: async () => {
      const out = await session.run(feeds, ["c"]);
      last = out.c.data as Int32Array;
    },
    output: () => last,
  };
}

/** The compiled bench/.out/kernels/*.wasm a runtime could compile (relaxed ones may be missing). */
export interface KernelModules {
  simd: WebAssembly.Module;
  relaxed?: WebAssembly.Module;
  relaxedI16?: WebAssembly.Module;
}

export interface DotProbe {
  ok: boolean;
  want: number[];
  got: number[];
}

/** One relaxed dot-add on fixed lanes (i7 operand in [0,127]) against the spec's sums. */
export function probeRelaxedDot(instance: WebAssembly.Instance): DotProbe {
  const x = instance.exports as unknown as GemmExports;
  const mem = x.memory.buffer;
  const a = new Int8Array(mem, (x.probe_a as () => number)(), 16);
  const b = new Int8Array(mem, (x.probe_b as () => number)(), 16);
  const c = new Int32Array(mem, (x.probe_c as () => number)(), 4);
  for (let i = 0; i < 16; i++) {
    a[i] = ((i * 37) % 256) - 128;
    b[i] = (i * 53) % 128;
  }
  c.set([1000, 2000, 3000, 4000]);
  const want = [0, 1, 2, 3].map(
    (l) => c[l] + [0, 1, 2, 3].reduce((sum, j) => sum + a[4 * l + j] * b[4 * l + j], 0),
  );
  (x.probe_dot as () => void)();
  const got = [...c];
  return { ok: want.every((v, i) => v === got[i]), want, got };
}

export interface PreparedShape {
  runs: Partial<Record<KernelName, GemmRun>>;
  /** "exact", or where and how a kernel's output differs from the JS reference. */
  checks: Partial<Record<KernelName, string>>;
  probes: Record<string, DotProbe>;
}

/**
 * Every kernel a runtime has, on one shape's seeded inputs, each run once and
 * compared with the JS reference (exact i32). A kernel that differs keeps its
 * check but loses its run; onnxruntime-web or SIMD128 differing throws.
 */
export async function prepareShape(
  s: GemmShape,
  seed: number,
  modules: KernelModules,
  ort: { runtime: OrtRuntime; modelBytes: Uint8Array },
): Promise<PreparedShape> {
  const { a, a7, b } = gemmInputs(s, seed);
  const want = referenceGemm(s, a, b, 128);
  const want7 = referenceGemm(s, a7, b, 64);
  // One instance per kernel: they share the module's static buffers.
  const inst = (m: WebAssembly.Module) => WebAssembly.instantiate(m);
  const runs: PreparedShape["runs"] = {
    "ort-matmulinteger": await createOrtGemm(ort.runtime, ort.modelBytes, s, a),
    "simd-4x4": createWasmGemm(await inst(modules.simd), "gemm_simd", s, a, b, 128),
  };
  const probes: Record<string, DotProbe> = {};
  for (const [suffix, m] of [
    ["", modules.relaxed],
    ["-i16", modules.relaxedI16],
  ] as const) {
    if (!m) continue;
    probes[`relaxed${suffix}`] = probeRelaxedDot(await inst(m));
    runs[`relaxed-exact${suffix}`] = createWasmGemm(await inst(m), "gemm_relaxed", s, a, b, 128);
    runs[`relaxed-u7${suffix}`] = createWasmGemm(await inst(m), "gemm_relaxed_u7", s, a7, b, 64);
    runs[`relaxed-u7-6x8${suffix}`] = createWasmGemm(
      await inst(m),
      "gemm_relaxed_u7_6x8",
      s,
      a7,
      b,
      64,
    );
  }
  const checks: PreparedShape["checks"] = {};
  for (const [name, r] of Object.entries(runs) as [KernelName, GemmRun][]) {
    await r.run();
    const bad = firstMismatch(name.startsWith("relaxed-u7") ? want7 : want, r.output());
    checks[name] = bad < 0 ? "exact" : `differs from the JS reference at element ${bad}`;
    if (bad < 0) continue;
    if (!name.startsWith("relaxed")) throw new Error(`${name} ${s.label}: ${checks[name]}`);
    delete runs[name];
  }
  return { runs, checks, probes };
}
