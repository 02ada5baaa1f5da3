import { type Encoded, MessageWriter } from "./protobuf.ts";

/**
 * ONNX ModelProto encoder for the subset of onnx.proto this project writes:
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto (raw_data or
 * external data), ValueInfoProto with tensor types and symbolic dims.
 * Field numbers follow onnx/onnx.proto (IR version 8).
 */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export type Dim = number | string;

export interface TensorInit {
  name: string;
  dataType: DataTypeCode;
  dims: readonly number[];
  /** Raw little-endian bytes. */
  raw: Uint8Array;
}

export type AttributeValue =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "ints"; value: readonly number[] }
  | { kind: "floats"; value: readonly number[] }
  | { kind: "string"; value: string }
  | { kind: "tensor"; value: TensorInit };

export interface NodeDef {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  dims: readonly Dim[];
}

export interface ModelDef {
  graphName: string;
  nodes: readonly NodeDef[];
  initializers: readonly TensorInit[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  opsets: readonly { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  metadata?: Record<string, string>;
}

/** Where an initializer's bytes live when written as external data. */
export interface ExternalLocation {
  location: string;
  offset: number;
  length: number;
}

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export function encodeTensor(tensor: TensorInit, external?: ExternalLocation): Encoded {
  const w = new MessageWriter();
  if (tensor.dims.length > 0) w.packedVarints(1, tensor.dims);
  w.varint(2, tensor.dataType);
  w.string(8, tensor.name);
  if (external) {
    for (const [key, value] of [
      ["location", external.location],
      ["offset", String(external.offset)],
      ["length", String(external.length)],
    ]) {
      w.message(13, new MessageWriter().string(1, key).string(2, value).finish());
    }
    w.varint(14, 1);
  } else {
    w.bytes(9, tensor.raw);
  }
  return w.finish();
}

function encodeAttribute(name: string, attr: AttributeValue): Encoded {
  const w = new MessageWriter().string(1, name);
  switch (attr.kind) {
    case "int":
      w.varint(3, attr.value).varint(20, ATTR.INT);
      break;
    case "float":
      w.float(2, attr.value).varint(20, ATTR.FLOAT);
      break;
    case "ints":
      w.packedVarints(8, attr.value).varint(20, ATTR.INTS);
      break;
    case "floats":
      w.packedFloats(7, attr.value).varint(20, ATTR.FLOATS);
      break;
    case "string":
      w.string(4, attr.value).varint(20, ATTR.STRING);
      break;
    case "tensor":
      w.message(5, encodeTensor(attr.value)).varint(20, ATTR.TENSOR);
      break;
  }
  return w.finish();
}

function encodeNode(node: NodeDef): Encoded {
  const w = new MessageWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name).string(4, node.opType);
  for (const [name, attr] of Object.entries(node.attributes ?? {})) {
    w.message(5, encodeAttribute(name, attr));
  }
  if (node.domain) w.string(7, node.domain);
  return w.finish();
}

function encodeValueInfo(info: ValueInfo): Encoded {
  const shape = new MessageWriter();
  for (const dim of info.dims) {
    const d = new MessageWriter();
    if (typeof dim === "number") d.varint(1, dim);
    else d.string(2, dim);
    shape.message(1, d.finish());
  }
  const tensorType = new MessageWriter().varint(1, info.elemType).message(2, shape.finish());
  const type = new MessageWriter().message(1, tensorType.finish());
  return new MessageWriter().string(1, info.name).message(2, type.finish()).finish();
}

/**
 * Encodes a ModelProto. With `external`, each initializer whose name is in the
 * map is written as an external-data reference instead of raw_data.
 */
export function encodeModel(model: ModelDef, external?: Map<string, ExternalLocation>): Encoded {
  const graph = new MessageWriter();
  for (const node of model.nodes) graph.message(1, encodeNode(node));
  graph.string(2, model.graphName);
  for (const init of model.initializers)
    graph.message(5, encodeTensor(init, external?.get(init.name)));
  for (const input of model.inputs) graph.message(11, encodeValueInfo(input));
  for (const output of model.outputs) graph.message(12, encodeValueInfo(output));

  const w = new MessageWriter().varint(1, 8);
  w.string(2, model.producerName).string(3, model.producerVersion);
  w.message(7, graph.finish());
  for (const opset of model.opsets) {
    const o = new MessageWriter();
    if (opset.domain) o.string(1, opset.domain);
    o.varint(2, opset.version);
    w.message(8, o.finish());
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, new MessageWriter().string(1, key).string(2, value).finish());
  }
  return w.finish();
}
