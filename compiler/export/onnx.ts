// `netc export --format onnx`: a checked model and its weights as an ONNX ModelProto (opset 17,
// IR version 8, batch dimension "N"), initializers named as netc names its parameters.
// Browser-safe: the playground calls it too.
import type { ModelIR } from "../ir.js";
import { NetcError } from "../../runtime/errors.js";
import { onnxLayers, type OnnxEmitter } from "./onnx-layers.js";
import {
  DataType,
  encodeModel,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from "./onnx-proto.js";

export const ONNX_OPSET = 17;
/** IR version 8 (ONNX 1.10 to 1.12): what Debian's onnx 1.12 checker accepts at opset 17. */
export const ONNX_IR_VERSION = 8;
/** The symbolic batch dimension of every graph input and output. */
export const BATCH_DIM = "N";

/** A tensor's values by name, as `decodeSafetensors` returns them. */
export type Weights = ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;

/** The ONNX graph of `model` with `weights` (every parameter and buffer the model has). */
export function onnxModel(model: ModelIR, weights: Weights): OnnxModel {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const taken = new Set<string>();
  const unique = (wanted: string) => {
    let name = wanted;
    for (let k = 1; taken.has(name); k++) name = `${wanted}_${k}`;
    taken.add(name);
    return name;
  };
  // Graph inputs and outputs keep the model's names; a layer's value is named after the layer.
  const value = new Map<number, string>();
  const shapeOf = new Map(model.nodes.map((n) => [n.id, n.shape]));
  const info = (name: string, node: number): OnnxValueInfo => ({
    name,
    elemType: DataType.float,
    dims: [BATCH_DIM, ...shapeOf.get(node)!],
  });
  for (const i of model.inputs) value.set(i.node, unique(i.name));
  const outputOf = new Map<number, string>();
  for (const o of model.outputs)
    if (!outputOf.has(o.node) && !value.has(o.node)) outputOf.set(o.node, unique(o.name));
  for (const p of model.nodes.flatMap((n) => n.params)) taken.add(p.name);

  for (const node of model.nodes) {
    if (node.op === "Input") continue;
    const layer = onnxLayers[node.op];
    if (!layer) throw new NetcError(`${node.name}: ${node.op} has no ONNX export`);
    const y = outputOf.get(node.id) ?? unique(node.name);
    value.set(node.id, y);
    const own = new Set(node.params.map((p) => p.name));
    let count = 0;
    const constant = (hint: string, dims: number[], values: OnnxTensor["values"]) => {
      const name = unique(`${node.name}/${hint}`);
      initializers.push({ name, dims, values });
      return name;
    };
    const emitter: OnnxEmitter = {
      name: node.name,
      args: node.attrs,
      inputShapes: node.inputs.map((i) => shapeOf.get(i)!),
      outputShape: node.shape,
      x: node.inputs.map((i) => value.get(i)!),
      y,
      param(local) {
        const name = `${node.name}.${local}`;
        if (!own.has(name)) throw new RangeError(`export: ${node.op} ${node.name} has no ${local}`);
        return name;
      },
      floats: (hint, values, dims = [values.length]) =>
        constant(hint, dims, { type: "float", data: Float32Array.from(values) }),
      ints: (hint, values, dims = [values.length]) =>
        constant(hint, dims, { type: "int64", data: [...values] }),
      op(opType, inputs, attributes = [], output) {
        const out = output ?? unique(`${node.name}/${opType}${count === 0 ? "" : `_${count}`}`);
        const name = output === y ? node.name : `${node.name}/${opType}_${count}`;
        count++;
        nodes.push({ name, opType, domain: "", inputs: [...inputs], outputs: [out], attributes });
        return out;
      },
    };
    layer(emitter);
  }
  // An output bound to a value already given out under another name, or to an input.
  const outputs: OnnxValueInfo[] = [];
  for (const o of model.outputs) {
    const v = value.get(o.node)!;
    const named = outputOf.get(o.node) === v && !outputs.some((out) => out.name === v);
    const name = named ? v : unique(o.name);
    if (!named)
      nodes.push({
        name,
        opType: "Identity",
        domain: "",
        inputs: [v],
        outputs: [name],
        attributes: [],
      });
    outputs.push(info(name, o.node));
  }

  const params = model.nodes.flatMap((n) => n.params);
  const paramTensors: OnnxTensor[] = params.map((p) => {
    const w = weights.get(p.name);
    if (!w) throw new NetcError(`the weights lack ${p.name}`);
    const expected = p.shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== expected)
      throw new NetcError(
        `${p.name} holds ${w.data.length} values, its shape [${p.shape.join(", ")}] takes ${expected}`,
      );
    return { name: p.name, dims: [...p.shape], values: { type: "float", data: w.data } };
  });
  return {
    irVersion: ONNX_IR_VERSION,
    opsets: [{ domain: "", version: ONNX_OPSET }],
    producerName: "netc",
    producerVersion: "",
    graph: {
      name: model.name,
      nodes,
      initializers: [...paramTensors, ...initializers],
      inputs: model.inputs.map((i) => info(value.get(i.node)!, i.node)),
      outputs,
    },
  };
}

/** The ONNX file's bytes. */
export function exportOnnx(model: ModelIR, weights: Weights): Uint8Array {
  return encodeModel(onnxModel(model, weights));
}
