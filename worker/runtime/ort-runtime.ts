/**
 * onnxruntime-web's WASM backend inside workerd. workerd refuses to compile
 * WebAssembly from bytes and has no `import.meta.url`, so the runtime's .wasm
 * arrives as a precompiled `WebAssembly.Module` (a `.wasm` import, wrangler
 * rule CompiledWasm) and is handed to emscripten's instantiation here.
 *
 * onnxruntime-web's factory only forwards `numThreads`, `wasmBinary` and
 * `locateFile` to emscripten, so the Module cannot be passed as a config
 * hook. Instead `wasmBinary` gets a placeholder (which skips every fetch) and,
 * for the duration of initialisation only, `WebAssembly.instantiate` is
 * wrapped so that a bytes argument is answered with the precompiled Module.
 */
import type { InferenceSessionLike, TensorFactory } from "../../conditioning/encoder/session.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import {
  findWasmMemory,
  heapGrowthStats,
  installTightHeapGrowth,
} from "../../conditioning/memory/heap-growth.ts";

/** The part of `onnxruntime-web/wasm` this adapter uses. */
export interface OrtWebLike {
  env: {
    wasm: {
      numThreads?: number;
      proxy?: boolean;
      simd?: boolean | "fixed" | "relaxed";
      wasmBinary?: ArrayBufferLike | Uint8Array;
    };
    logLevel?: string;
  };
  InferenceSession: {
    create(bytes: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: never, data: never, dims: readonly number[]) => unknown;
}

interface OrtSession extends InferenceSessionLike {
  release?(): Promise<void>;
}

export interface OrtRuntimeOptions {
  ort: OrtWebLike;
  /** The compiled `ort-wasm-simd-threaded.wasm`. */
  wasmModule: WebAssembly.Module;
  /**
   * "tight" (default): decline emscripten's 20 % / 10 % heap over-growth
   * (conditioning/memory/heap-growth.ts); "emscripten": leave growth as built.
   */
  heapGrowth?: "tight" | "emscripten";
  /**
   * Largest WASM heap in bytes (MEMORY_BUDGET_MB), read at each growth: growth past it is
   * declined and the allocation fails inside `session.run` (tight policy only).
   */
  maxHeapBytes?: () => number | undefined;
}

export interface WasmHeapReport {
  /** Current byte length of the WASM heap (it never shrinks: the peak); undefined before start-up. */
  heapBytes?: number;
  heapGrowth: "tight" | "emscripten";
  /** grow() calls declined / passed (tight policy only). */
  declined: number;
  grown: number;
  /** grow() calls declined because the heap would pass `maxHeapBytes`. */
  capped: number;
}

/** Initializers stored next to the graph (`<graph>.onnx.data`), as onnxruntime-web takes them. */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

export interface OrtRuntime {
  createSession(
    modelBytes: Uint8Array,
    label: string,
    externalData?: readonly ExternalDataFile[],
  ): Promise<InferenceSessionLike>;
  tensor: TensorFactory;
  /** The WASM heap of this runtime (for /readyz and benchmarks). */
  heap(): WasmHeapReport;
}

type Instantiate = typeof WebAssembly.instantiate;

/**
 * onnxruntime-web initialises once per isolate, so its heap belongs to the
 * module, not to a runtime: a runtime created after another one initialised
 * it still reports it (the growth policy is the first runtime's).
 */
const HEAPS = new WeakMap<OrtWebLike, WebAssembly.Memory>();

/** Placeholder bytes: a valid empty wasm header; never compiled. */
const PLACEHOLDER = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

export function createOrtRuntime(options: OrtRuntimeOptions): OrtRuntime {
  const { ort, wasmModule } = options;
  const heapGrowth = options.heapGrowth ?? "tight";
  let initialised = false;
  let chain: Promise<unknown> = Promise.resolve();

  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = PLACEHOLDER;
  ort.env.logLevel = "error";

  async function withPrecompiledModule<T>(body: () => Promise<T>): Promise<T> {
    if (initialised) return body();
    const wasm = WebAssembly as unknown as { instantiate: Instantiate };
    const original = wasm.instantiate;
    const patched = (async (source: unknown, imports?: WebAssembly.Imports) => {
      // The threaded build creates its (shared) heap in JS and imports it.
      const memory = findWasmMemory(imports);
      if (memory) {
        HEAPS.set(ort, memory);
        if (heapGrowth === "tight") {
          installTightHeapGrowth(memory, { maxBytes: options.maxHeapBytes });
        }
      }
      if (source instanceof WebAssembly.Module) return original(source, imports);
      const instance = await original(wasmModule, imports);
      return { instance, module: wasmModule };
    }) as Instantiate;
    wasm.instantiate = patched;
    try {
      const result = await body();
      initialised = true;
      return result;
    } finally {
      wasm.instantiate = original;
    }
  }

  async function createSession(
    modelBytes: Uint8Array,
    label: string,
    externalData?: readonly ExternalDataFile[],
  ) {
    // Sessions are created one at a time: the first creation initialises the runtime.
    const next = chain.then(() =>
      withPrecompiledModule(() =>
        ort.InferenceSession.create(modelBytes, {
          executionProviders: ["wasm"],
          graphOptimizationLevel: "all",
          enableCpuMemArena: false,
          ...(externalData?.length ? { externalData: [...externalData] } : {}),
        }),
      ),
    );
    chain = next.catch(() => undefined);
    try {
      return await next;
    } catch (cause) {
      throw new ClipEdgeError(
        "unavailable",
        `onnxruntime-web could not create a session for ${label} (${modelBytes.byteLength} bytes): ${describe(cause)}`,
        { cause },
      );
    }
  }

  const tensor: TensorFactory = (type, data, dims) =>
    new ort.Tensor(type as never, data as never, dims) as ReturnType<TensorFactory>;

  const heap = (): WasmHeapReport => {
    const memory = HEAPS.get(ort);
    const stats = memory ? heapGrowthStats(memory) : undefined;
    return {
      ...(memory ? { heapBytes: memory.buffer.byteLength } : {}),
      // The policy installed on the heap (by whichever runtime initialised it).
      heapGrowth: memory ? (stats ? "tight" : "emscripten") : heapGrowth,
      declined: stats?.declined ?? 0,
      grown: stats?.grown ?? 0,
      capped: stats?.capped ?? 0,
    };
  };

  return { createSession, tensor, heap };
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
