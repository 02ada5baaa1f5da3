import { ClipEdgeError } from "../../conditioning/errors.ts";
import {
  type AttributeValue,
  DataType,
  type DataTypeCode,
  type Dim,
  type ModelDef,
  type NodeDef,
  type TensorInit,
  type ValueInfo,
} from "./onnx-proto.ts";

/** Attribute constructors: `attr.int(1)`, `attr.floats([..])`, ... */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: "int", value }),
  float: (value: number): AttributeValue => ({ kind: "float", value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: "ints", value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: "floats", value }),
  string: (value: string): AttributeValue => ({ kind: "string", value }),
};

export interface NodeOptions {
  domain?: string;
  /** Number of outputs (default 1) or explicit output names. */
  outputs?: number | readonly string[];
  /** Explicit name of the (first) output value. */
  name?: string;
}

export type TypedArrayLike =
  | Float32Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Uint16Array;

function rawBytes(data: TypedArrayLike): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Accumulates nodes, initializers, inputs and outputs of one ONNX graph.
 * Values are referred to by name; generated names are unique within the builder.
 */
export class GraphBuilder {
  private readonly nodes: NodeDef[] = [];
  private readonly inits: TensorInit[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private counter = 0;
  private readonly domains = new Set<string>();

  constructor(readonly graphName: string) {}

  private unique(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, elemType: DataTypeCode, dims: readonly Dim[]): string {
    if (this.names.has(name))
      throw new ClipEdgeError("internal", `graph input ${name} defined twice`);
    this.names.add(name);
    this.inputs.push({ name, elemType, dims });
    return name;
  }

  output(name: string, elemType: DataTypeCode, dims: readonly Dim[]): void {
    this.outputs.push({ name, elemType, dims });
  }

  initializer(
    name: string,
    dataType: DataTypeCode,
    dims: readonly number[],
    data: TypedArrayLike,
    options: { defaultForInput?: boolean } = {},
  ): string {
    // An initializer named like a graph input is that input's default value (ONNX IR >= 4).
    const unique = options.defaultForInput ? name : this.unique(name);
    const count = dims.reduce((a, b) => a * b, 1);
    const raw = rawBytes(data);
    const width =
      dataType === DataType.FLOAT || dataType === DataType.INT32
        ? 4
        : dataType === DataType.INT64
          ? 8
          : dataType === DataType.FLOAT16
            ? 2
            : 1;
    if (raw.byteLength !== count * width) {
      throw new ClipEdgeError(
        "internal",
        `initializer ${name}: [${dims}] needs ${count * width} bytes, got ${raw.byteLength}`,
      );
    }
    this.inits.push({ name: unique, dataType, dims, raw });
    return unique;
  }

  /** Small constant (cached by value), float32 or int64. */
  constant(kind: "float" | "int64", values: readonly number[], dims?: readonly number[]): string {
    const shape = dims ?? [values.length];
    const key = `${kind}:${shape.join("x")}:${values.join(",")}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const name =
      kind === "float"
        ? this.initializer("const_f", DataType.FLOAT, shape, Float32Array.from(values))
        : this.initializer(
            "const_i",
            DataType.INT64,
            shape,
            BigInt64Array.from(values, (v) => BigInt(v)),
          );
    this.constCache.set(key, name);
    return name;
  }

  scalar(value: number): string {
    return this.constant("float", [value], []);
  }

  nodeMulti(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    options: NodeOptions = {},
  ): string[] {
    const count = typeof options.outputs === "number" ? options.outputs : undefined;
    let outputs: string[];
    if (Array.isArray(options.outputs)) {
      outputs = options.outputs.map((n) => {
        if (this.names.has(n)) throw new ClipEdgeError("internal", `value ${n} defined twice`);
        this.names.add(n);
        return n;
      });
    } else {
      const base = options.name ?? opType.toLowerCase();
      outputs = Array.from({ length: count ?? 1 }, (_, i) =>
        i === 0 && options.name ? this.unique(options.name) : this.unique(`${base}_${i}`),
      );
    }
    if (options.domain) this.domains.add(options.domain);
    this.nodes.push({
      opType,
      inputs,
      outputs,
      name: `n${this.nodes.length}_${opType}`,
      domain: options.domain,
      attributes,
    });
    return outputs;
  }

  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    options: NodeOptions = {},
  ): string {
    return this.nodeMulti(opType, inputs, attributes, options)[0];
  }

  build(meta: {
    producerName: string;
    producerVersion: string;
    opset?: number;
    metadata?: Record<string, string>;
  }): ModelDef {
    const opsets = [{ domain: "", version: meta.opset ?? 17 }];
    for (const domain of this.domains) opsets.push({ domain, version: 1 });
    const known = new Set([...this.inputs.map((i) => i.name), ...this.inits.map((i) => i.name)]);
    for (const n of this.nodes) for (const o of n.outputs) known.add(o);
    for (const o of this.outputs) {
      if (!known.has(o.name))
        throw new ClipEdgeError("internal", `graph output ${o.name} is never produced`);
    }
    return {
      graphName: this.graphName,
      nodes: this.nodes,
      initializers: this.inits,
      inputs: this.inputs,
      outputs: this.outputs,
      opsets,
      producerName: meta.producerName,
      producerVersion: meta.producerVersion,
      metadata: meta.metadata,
    };
  }
}

export function createGraphBuilder(graphName: string): GraphBuilder {
  return new GraphBuilder(graphName);
}
