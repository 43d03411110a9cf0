// The part of ONNX's ModelProto netc writes and reads, as typed data, and its wire encoding
// (field numbers from onnx/onnx.proto, IR version 8). Browser-safe.
import { NetcError } from "../../runtime/errors.js";
import { ProtoReader, ProtoWriter, type BytesField, type Field } from "./protobuf.js";

/** TensorProto.DataType values netc reads; others are kept as their number. */
export const DataType = { float: 1, int32: 6, int64: 7, double: 11 } as const;

/** A tensor's values: float32 weights, or integers (shapes, axes, indices). */
export type TensorValues =
  | { type: "float"; data: Float32Array }
  | { type: "int64"; data: number[] }
  | { type: "unsupported"; dataType: number };

export interface OnnxTensor {
  name: string;
  dims: number[];
  values: TensorValues;
}

export type OnnxAttribute =
  | { name: string; kind: "float"; value: number }
  | { name: string; kind: "int"; value: number }
  | { name: string; kind: "string"; value: string }
  | { name: string; kind: "tensor"; value: OnnxTensor }
  | { name: string; kind: "floats"; value: number[] }
  | { name: string; kind: "ints"; value: number[] }
  /** A kind netc has no use for (graphs, sparse tensors, string lists): its AttributeType. */
  | { name: string; kind: "other"; type: number };

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

/** A graph input or output: a float tensor whose dimensions are numbers or symbols ("N"). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  /** Operator set versions by domain ("" is the default ONNX domain). */
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
}

// AttributeProto.AttributeType
const AttrType = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

// ---- writing ----

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  w.packed(1, t.dims);
  w.string(8, t.name);
  const v = t.values;
  if (v.type === "float") {
    w.varint(2, DataType.float);
    // raw_data is little-endian whatever the platform: copy through a DataView.
    const raw = new Uint8Array(v.data.length * 4);
    const view = new DataView(raw.buffer);
    v.data.forEach((x, i) => view.setFloat32(i * 4, x, true));
    w.bytes(9, raw);
  } else if (v.type === "int64") {
    w.varint(2, DataType.int64);
    w.packed(7, v.data);
  } else throw new RangeError(`writeTensor: ${t.name} has no values to write`);
}

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  switch (a.kind) {
    case "float":
      w.float(2, a.value).varint(20, AttrType.float);
      break;
    case "int":
      w.varint(3, a.value).varint(20, AttrType.int);
      break;
    case "string":
      w.string(4, a.value).varint(20, AttrType.string);
      break;
    case "tensor":
      w.message(5, (t) => writeTensor(t, a.value)).varint(20, AttrType.tensor);
      break;
    case "floats":
      for (const f of a.value) w.float(7, f);
      w.varint(20, AttrType.floats);
      break;
    case "ints":
      w.packed(8, a.value).varint(20, AttrType.ints);
      break;
    case "other":
      throw new RangeError(`writeAttribute: ${a.name} is of a kind netc does not write`);
  }
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.dims)
          shape.message(1, (dim) => (typeof d === "number" ? dim.varint(1, d) : dim.string(2, d)));
      });
    }),
  );
}

export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, m.irVersion);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  w.message(7, (g) => {
    for (const n of m.graph.nodes)
      g.message(1, (node) => {
        for (const i of n.inputs) node.string(1, i);
        for (const o of n.outputs) node.string(2, o);
        node.string(3, n.name);
        node.string(4, n.opType);
        for (const a of n.attributes) node.message(5, (attr) => writeAttribute(attr, a));
        if (n.domain) node.string(7, n.domain);
      });
    g.string(2, m.graph.name);
    for (const t of m.graph.initializers) g.message(5, (tensor) => writeTensor(tensor, t));
    for (const v of m.graph.inputs) g.message(11, (info) => writeValueInfo(info, v));
    for (const v of m.graph.outputs) g.message(12, (info) => writeValueInfo(info, v));
  });
  for (const o of m.opsets)
    w.message(8, (set) => {
      if (o.domain) set.string(1, o.domain);
      set.varint(2, o.version);
    });
  return w.finish();
}

// ---- reading ----

/** Calls `visit` with each field of the message `r` reads. */
function fields(r: ProtoReader, visit: (f: Field) => void): void {
  while (!r.done()) visit(r.next());
}

/** A length-delimited field, or a clear error where the file has another wire type. */
function bytesOf(r: ProtoReader, f: Field, what: string): BytesField {
  if (f.wire !== 2)
    return r.fail(`${what}: expected a length-delimited field, found wire type ${f.wire}`);
  return f;
}

function intOf(r: ProtoReader, f: Field, what: string): number {
  if (f.wire !== 0) return r.fail(`${what}: expected an integer, found wire type ${f.wire}`);
  return f.value;
}

function readTensor(r: ProtoReader): OnnxTensor {
  const t = { name: "", dims: [] as number[] };
  let dataType = 0;
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const doubles: number[] = [];
  let external = false;
  fields(r, (f) => {
    if (f.field === 1) t.dims.push(...r.ints(f));
    else if (f.field === 2) dataType = intOf(r, f, "TensorProto.data_type");
    else if (f.field === 8) t.name = r.text(bytesOf(r, f, "TensorProto.name"));
    else if (f.field === 9) raw = bytesOf(r, f, "TensorProto.raw_data").value;
    else if (f.field === 4) floats.push(...r.floats(f));
    else if (f.field === 5 || f.field === 7) ints.push(...r.ints(f));
    else if (f.field === 10) {
      const b = bytesOf(r, f, "TensorProto.double_data").value;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + 8 <= b.length; i += 8) doubles.push(view.getFloat64(i, true));
    } else if (f.field === 14 && f.wire === 0 && f.value === 1) external = true;
  });
  if (external)
    r.fail(`tensor '${t.name}' keeps its data in an external file, which netc does not read`, 0);
  const count = t.dims.reduce((a, b) => a * b, 1);
  const mismatch = (n: number) =>
    r.fail(
      `tensor '${t.name}' of shape [${t.dims.join(", ")}] holds ${n} values, not ${count},`,
      0,
    );
  const view = raw && new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dataType === DataType.float) {
    const data = view
      ? Float32Array.from({ length: raw!.length / 4 }, (_, i) => view.getFloat32(i * 4, true))
      : Float32Array.from(floats);
    if (data.length !== count || (raw && raw.length % 4 !== 0)) mismatch(data.length);
    return { ...t, values: { type: "float", data } };
  }
  if (dataType === DataType.double) {
    const data = view
      ? Float32Array.from({ length: raw!.length / 8 }, (_, i) => view.getFloat64(i * 8, true))
      : Float32Array.from(doubles);
    if (data.length !== count) mismatch(data.length);
    return { ...t, values: { type: "float", data } };
  }
  if (dataType === DataType.int64 || dataType === DataType.int32) {
    const width = dataType === DataType.int64 ? 8 : 4;
    const data = view
      ? Array.from({ length: raw!.length / width }, (_, i) =>
          width === 8 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true),
        )
      : ints;
    if (data.length !== count) mismatch(data.length);
    return { ...t, values: { type: "int64", data } };
  }
  return { ...t, values: { type: "unsupported", dataType } };
}

function readAttribute(r: ProtoReader): OnnxAttribute {
  let name = "";
  let type = 0;
  let f32 = 0;
  let int = 0;
  let str = "";
  let tensor: OnnxTensor | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  fields(r, (f) => {
    if (f.field === 1) name = r.text(bytesOf(r, f, "AttributeProto.name"));
    else if (f.field === 20) type = intOf(r, f, "AttributeProto.type");
    else if (f.field === 2 && f.wire === 5) f32 = f.value;
    else if (f.field === 3) int = intOf(r, f, "AttributeProto.i");
    else if (f.field === 4) str = r.text(bytesOf(r, f, "AttributeProto.s"));
    else if (f.field === 5) tensor = readTensor(r.nested(bytesOf(r, f, "AttributeProto.t")));
    else if (f.field === 7) floats.push(...r.floats(f));
    else if (f.field === 8) ints.push(...r.ints(f));
  });
  switch (type) {
    case AttrType.float:
      return { name, kind: "float", value: f32 };
    case AttrType.int:
      return { name, kind: "int", value: int };
    case AttrType.string:
      return { name, kind: "string", value: str };
    case AttrType.tensor:
      return tensor ? { name, kind: "tensor", value: tensor } : { name, kind: "other", type };
    case AttrType.floats:
      return { name, kind: "floats", value: floats };
    case AttrType.ints:
      return { name, kind: "ints", value: ints };
    default:
      return { name, kind: "other", type };
  }
}

function readNode(r: ProtoReader): OnnxNode {
  const n: OnnxNode = { name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [] };
  fields(r, (f) => {
    if (f.field === 1) n.inputs.push(r.text(bytesOf(r, f, "NodeProto.input")));
    else if (f.field === 2) n.outputs.push(r.text(bytesOf(r, f, "NodeProto.output")));
    else if (f.field === 3) n.name = r.text(bytesOf(r, f, "NodeProto.name"));
    else if (f.field === 4) n.opType = r.text(bytesOf(r, f, "NodeProto.op_type"));
    else if (f.field === 7) n.domain = r.text(bytesOf(r, f, "NodeProto.domain"));
    else if (f.field === 5)
      n.attributes.push(readAttribute(r.nested(bytesOf(r, f, "NodeProto.attribute"))));
  });
  return n;
}

function readValueInfo(r: ProtoReader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: "", elemType: 0, dims: [] };
  fields(r, (f) => {
    if (f.field === 1) v.name = r.text(bytesOf(r, f, "ValueInfoProto.name"));
    else if (f.field === 2)
      fields(r.nested(bytesOf(r, f, "ValueInfoProto.type")), (t) => {
        if (t.field !== 1) return;
        const tensorType = r.nested(bytesOf(r, t, "TypeProto.tensor_type"));
        fields(tensorType, (tt) => {
          if (tt.field === 1) v.elemType = intOf(tensorType, tt, "TypeProto.Tensor.elem_type");
          else if (tt.field === 2) {
            const shape = tensorType.nested(bytesOf(tensorType, tt, "TypeProto.Tensor.shape"));
            fields(shape, (d) => {
              if (d.field !== 1) return;
              const dim = shape.nested(bytesOf(shape, d, "TensorShapeProto.dim"));
              let value: number | string = "?";
              fields(dim, (x) => {
                if (x.field === 1) value = intOf(dim, x, "Dimension.dim_value");
                else if (x.field === 2) value = dim.text(bytesOf(dim, x, "Dimension.dim_param"));
              });
              v.dims.push(value);
            });
          }
        });
      });
  });
  return v;
}

function readGraph(r: ProtoReader): OnnxGraph {
  const g: OnnxGraph = { name: "", nodes: [], initializers: [], inputs: [], outputs: [] };
  fields(r, (f) => {
    if (f.field === 1) g.nodes.push(readNode(r.nested(bytesOf(r, f, "GraphProto.node"))));
    else if (f.field === 2) g.name = r.text(bytesOf(r, f, "GraphProto.name"));
    else if (f.field === 5)
      g.initializers.push(readTensor(r.nested(bytesOf(r, f, "GraphProto.initializer"))));
    else if (f.field === 11)
      g.inputs.push(readValueInfo(r.nested(bytesOf(r, f, "GraphProto.input"))));
    else if (f.field === 12)
      g.outputs.push(readValueInfo(r.nested(bytesOf(r, f, "GraphProto.output"))));
  });
  return g;
}

/**
 * Reads an ONNX file. A malformed or truncated file is a NetcError naming `source` and the byte
 * offset where reading failed.
 */
export function decodeModel(bytes: Uint8Array, source: string): OnnxModel {
  const r = new ProtoReader(bytes, source);
  const m: Omit<OnnxModel, "graph"> = {
    irVersion: 0,
    opsets: [],
    producerName: "",
    producerVersion: "",
  };
  let graph: OnnxGraph | undefined;
  fields(r, (f) => {
    if (f.field === 1) m.irVersion = intOf(r, f, "ModelProto.ir_version");
    else if (f.field === 2) m.producerName = r.text(bytesOf(r, f, "ModelProto.producer_name"));
    else if (f.field === 3)
      m.producerVersion = r.text(bytesOf(r, f, "ModelProto.producer_version"));
    else if (f.field === 7) graph = readGraph(r.nested(bytesOf(r, f, "ModelProto.graph")));
    else if (f.field === 8) {
      const set = r.nested(bytesOf(r, f, "ModelProto.opset_import"));
      const o = { domain: "", version: 0 };
      fields(set, (s) => {
        if (s.field === 1) o.domain = set.text(bytesOf(set, s, "OperatorSetIdProto.domain"));
        else if (s.field === 2) o.version = intOf(set, s, "OperatorSetIdProto.version");
      });
      m.opsets.push(o);
    }
  });
  if (!graph)
    throw new NetcError(`${source}: not an ONNX model (no graph in ${bytes.length} bytes)`);
  return { ...m, graph };
}
