// `netc import`: an ONNX model as a readable `.net` file and its weights under netc's names.
// Nodes map to catalog layers one by one (MatMul+Add to a Linear, the Gelu and SiLU patterns to
// their activation); the shape arithmetic torch.onnx.export emits (Shape, Gather, Unsqueeze,
// Concat...) is folded into constants. A node netc cannot express becomes a problem naming it.
// Browser-safe.
import { layers } from "../catalog/index.js";
import type { ArgValue, Shape } from "../catalog/types.js";
import { outOfRange } from "../bind-args.js";
import { check } from "../check.js";
import { diagnostic } from "../diagnostics.js";
import { format } from "../../grammar/format.js";
import type { NamedTensor } from "../../runtime/safetensors.js";
import {
  DataType,
  decodeModel,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
} from "../export/onnx-proto.js";

/** A node netc cannot express, and why. */
export interface ImportProblem {
  node: string;
  opType: string;
  message: string;
}

export type ImportResult =
  | { ok: true; source: string; tensors: NamedTensor[]; modelName: string }
  | { ok: false; problems: ImportProblem[] };

/** An integer a folded shape computation holds: a number, or the batch size ("N"). */
type Dim = number | "N";

/** A layer of the imported model: catalog name, bound arguments, inputs and parameters. */
interface Term {
  op: string;
  args: Record<string, ArgValue>;
  label?: string;
  inputs: string[];
  /** Parameters and buffers by local name (`weight`, `running_mean`), values in netc's layout. */
  params: Record<string, Float32Array>;
  output: string;
  /** The ONNX node it comes from, for messages. */
  from: OnnxNode;
}

const keywords = new Set([
  "model",
  "block",
  "criterion",
  "train",
  "input",
  "output",
  "true",
  "false",
]);

/** An identifier the grammar accepts, or undefined when nothing of `raw` is left. */
function identifier(raw: string): string | undefined {
  const s = raw.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (!s) return undefined;
  const id = /^[0-9]/.test(s) ? `l${s}` : s;
  return keywords.has(id) ? `${id}_` : id;
}

/** Ops the import folds when their inputs are constants (shape arithmetic), and reads no other way. */
const foldable = new Set([
  "Shape",
  "Gather",
  "Unsqueeze",
  "Squeeze",
  "Cast",
  "Slice",
  "Mul",
  "Sub",
]);

class Refusal extends Error {
  constructor(readonly problem: ImportProblem) {
    super(problem.message);
  }
}

/** Reads an ONNX file (a malformed one is a NetcError with the byte offset) and translates it. */
export function importOnnx(bytes: Uint8Array, source: string): ImportResult {
  const model = decodeModel(bytes, source);
  const file = source.replace(/^.*[\\/]/, "").replace(/[\u0000-\u001f\u007f]/g, "?");
  const opset = model.opsets.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version ?? 0;
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(" ");
  const header = `# Imported by netc import from ${file} (${producer ? `${producer}, ` : ""}opset ${opset}).`;
  // Exporters' stock graph names say nothing of the model: the file's name does.
  const generic = ["", "torch_jit", "torch-jit-export", "main_graph", "graph"];
  const name = generic.includes(model.graph.name)
    ? (identifier(file.replace(/\.[^.]*$/, "")) ?? "Imported")
    : (identifier(model.graph.name) ?? "Imported");
  return new Importer(model.graph, opset).run(header, name[0]!.toUpperCase() + name.slice(1));
}

class Importer {
  private readonly consts = new Map<string, OnnxTensor>();
  /** Folded integer values (shape arithmetic). */
  private readonly ints = new Map<string, Dim[]>();
  /** Per-sample shapes of the values netc computes. */
  private readonly shapes = new Map<string, Shape>();
  /** An ONNX value that is another's (Identity, inference Dropout's alias). */
  private readonly alias = new Map<string, string>();
  private readonly terms: Term[] = [];
  private readonly problems: ImportProblem[] = [];
  private readonly consumers = new Map<string, OnnxNode[]>();
  private readonly done = new Set<OnnxNode>();
  /** A Pad's output read as its average pooling's padding: the Pad's input and pads. */
  private readonly padded = new Map<string, { input: string; pad: number[] }>();

  constructor(
    private readonly graph: OnnxGraph,
    private readonly opset: number,
  ) {
    for (const t of graph.initializers) this.consts.set(t.name, t);
    // Constants first, and constants reshaped: a pattern (GELU's, group norm's) reads constants
    // whose nodes come after its start. A Constant netc cannot read is left for its turn below,
    // which reports it.
    const reshaping = ["Reshape", "Unsqueeze", "Squeeze", "Identity"];
    for (const n of graph.nodes)
      if (
        n.opType === "Constant" ||
        (reshaping.includes(n.opType) &&
          this.consts.get(n.inputs[0]!)?.values.type === "float" &&
          n.inputs.every((i) => i === "" || this.consts.has(i)))
      )
        try {
          this.fold(n);
          this.done.add(n);
        } catch (error) {
          if (!(error instanceof Refusal)) throw error;
        }
    for (const n of graph.nodes)
      for (const i of n.inputs) {
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
  }

  run(header: string, modelName: string): ImportResult {
    const inputs = this.graph.inputs.filter((i) => !this.consts.has(i.name));
    for (const i of inputs) {
      const [batch, ...rest] = i.dims;
      const refuse = (message: string) =>
        this.problems.push({
          node: i.name,
          opType: "input",
          message: `input '${i.name}' ${message}`,
        });
      if (i.elemType !== DataType.float)
        refuse(`is of ONNX data type ${i.elemType}; netc's inputs are float32`);
      else if (batch === undefined || rest.some((d) => typeof d !== "number" || d < 1))
        refuse(`has shape [${i.dims.join(", ")}]: netc needs a batch dimension, then fixed sizes`);
      else this.shapes.set(i.name, rest as number[]);
    }
    if (this.problems.length) return { ok: false, problems: this.problems };
    // A node that reads what a refused node computes is not reported again: the first says why.
    const broken = new Set<string>();
    for (const node of this.graph.nodes) {
      if (this.done.has(node)) continue;
      if (node.inputs.some((i) => broken.has(this.resolve(i)))) {
        for (const o of node.outputs) broken.add(o);
        // Still, every op netc lacks is named: the list is then what a user would have to change.
        if (!this.handlers[node.opType] && !foldable.has(node.opType))
          this.problems.push(this.lacking(node));
        continue;
      }
      try {
        this.node(node);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        this.problems.push(error.problem);
        for (const o of node.outputs) broken.add(o);
      }
    }
    if (this.problems.length) return { ok: false, problems: this.problems };
    return this.write(
      inputs.map((i) => i.name),
      header,
      modelName,
    );
  }

  // ---- reading values ----

  private problem(node: OnnxNode, message: string): ImportProblem {
    return { node: node.name || node.outputs[0] || "?", opType: node.opType, message };
  }

  private fail(node: OnnxNode, message: string): never {
    throw new Refusal(this.problem(node, message));
  }

  private lacking(node: OnnxNode): ImportProblem {
    return this.problem(node, `netc has no layer for ${node.opType}`);
  }

  private resolve(value: string): string {
    let v = value;
    while (this.alias.has(v)) v = this.alias.get(v)!;
    return v;
  }

  private attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
    return node.attributes.find((a) => a.name === name);
  }

  private intAttr(node: OnnxNode, name: string, fallback: number): number {
    const a = this.attr(node, name);
    return a?.kind === "int" ? a.value : fallback;
  }

  private floatAttr(node: OnnxNode, name: string, fallback: number): number {
    const a = this.attr(node, name);
    return a?.kind === "float" ? a.value : fallback;
  }

  private intsAttr(node: OnnxNode, name: string): number[] | undefined {
    const a = this.attr(node, name);
    return a?.kind === "ints" ? a.value : undefined;
  }

  private stringAttr(node: OnnxNode, name: string, fallback: string): string {
    const a = this.attr(node, name);
    return a?.kind === "string" ? a.value : fallback;
  }

  /** A constant float tensor (an initializer or a Constant node's). */
  private floats(node: OnnxNode, value: string | undefined): Float32Array | undefined {
    if (!value) return undefined;
    const t = this.consts.get(value);
    if (!t) return undefined;
    if (t.values.type === "float") return t.values.data;
    if (t.values.type === "int64") return Float32Array.from(t.values.data);
    return this.fail(
      node,
      `tensor '${value}' is of ONNX data type ${t.values.dataType}, which netc does not read`,
    );
  }

  private constShape(value: string): number[] | undefined {
    return this.consts.get(value)?.dims;
  }

  /** A folded integer list: a constant, or shape arithmetic on known shapes. */
  private dims(value: string | undefined): Dim[] | undefined {
    if (!value) return undefined;
    const folded = this.ints.get(value);
    if (folded) return folded;
    const t = this.consts.get(value);
    if (t?.values.type === "int64") return t.values.data;
    if (t?.values.type === "float") return [...t.values.data];
    return undefined;
  }

  private shape(node: OnnxNode, value: string): Shape {
    const s = this.shapes.get(this.resolve(value));
    if (!s)
      this.fail(
        node,
        `its input '${value}' is not a value netc computes (a constant, or the output of a node it could not import)`,
      );
    return s;
  }

  /** The node's only data input (a value computed from the model's input). */
  private input(node: OnnxNode, index = 0): string {
    const v = node.inputs[index];
    if (v === undefined || v === "") this.fail(node, `input ${index} is missing`);
    const r = this.resolve(v);
    this.shape(node, r);
    return r;
  }

  private usedOutputs(node: OnnxNode): number {
    const outputs = new Set(this.graph.outputs.map((o) => o.name));
    return node.outputs.filter((o, i) => i > 0 && o && (this.consumers.has(o) || outputs.has(o)))
      .length;
  }

  // ---- adding layers ----

  /** Adds a layer, its shape checked by the catalog's own rule. */
  private add(
    node: OnnxNode,
    op: string,
    given: Record<string, ArgValue | undefined>,
    inputs: string[],
    params: Record<string, Float32Array> = {},
    output = node.outputs[0]!,
  ): void {
    const def = layers.get(op)!;
    const args: Record<string, ArgValue> = {};
    for (const [k, v] of Object.entries(given)) if (v !== undefined) args[k] = v;
    for (const spec of def.args)
      if (args[spec.name] === undefined && spec.default !== undefined)
        args[spec.name] = typeof spec.default === "function" ? spec.default(args) : spec.default;
    // What binding a written call would check: integers where integers go, and the bounds.
    for (const spec of def.args) {
      const v = args[spec.name];
      const numbers = typeof v === "number" ? [v] : Array.isArray(v) ? v : [];
      const integral = spec.type === "int" || spec.type === "size2" || spec.type === "ints";
      if (numbers.some((x) => !Number.isFinite(x) || (integral && !Number.isInteger(x))))
        this.fail(node, `${op}'s ${spec.name} would be ${formatValue(v!)}`);
      const bound = v === undefined ? undefined : outOfRange(spec, v);
      if (bound) this.fail(node, `${op}'s ${spec.name} must be ${bound}, not ${formatValue(v!)}`);
    }
    let problem: string | undefined;
    const shape = def.outputShape({
      layer: op,
      inputs: inputs.map((i) => this.shape(node, i)),
      inputNames: inputs,
      args,
      error: (code, params) => {
        // The message `netc check` would give the written layer.
        problem ??= `${op}: ${diagnostic(code, { pos: 0, end: 0 }, params).message}`;
        return undefined;
      },
      warn: () => {},
    });
    if (!shape || problem) this.fail(node, problem ?? `${op} gives no shape`);
    this.shapes.set(output, shape);
    this.terms.push({ op, args, inputs, params, output, from: node });
  }

  // ---- the ops ----

  private node(node: OnnxNode): void {
    if (node.domain !== "" && node.domain !== "ai.onnx")
      this.fail(node, `operators of domain '${node.domain}' are not ONNX's own`);
    const fold = this.fold(node);
    if (fold) return;
    const handler = this.handlers[node.opType];
    if (!handler) throw new Refusal(this.lacking(node));
    handler(node);
  }

  /** Constant folding of shape arithmetic and of Constant nodes; true when the node was folded. */
  private fold(node: OnnxNode): boolean {
    const out = node.outputs[0]!;
    const allConst = node.inputs.every((i) => i === "" || this.consts.has(i) || this.ints.has(i));
    switch (node.opType) {
      case "Constant": {
        const t = this.attr(node, "value");
        if (t?.kind === "tensor") this.consts.set(out, { ...t.value, name: out });
        else {
          const v = this.attr(node, "value_ints") ?? this.attr(node, "value_int");
          const f = this.attr(node, "value_floats") ?? this.attr(node, "value_float");
          if (v?.kind === "ints" || v?.kind === "int") {
            const data = v.kind === "ints" ? v.value : [v.value];
            this.consts.set(out, {
              name: out,
              dims: v.kind === "ints" ? [data.length] : [],
              values: { type: "int64", data },
            });
          } else if (f?.kind === "floats" || f?.kind === "float") {
            const data = Float32Array.from(f.kind === "floats" ? f.value : [f.value]);
            this.consts.set(out, {
              name: out,
              dims: f.kind === "floats" ? [data.length] : [],
              values: { type: "float", data },
            });
          } else this.fail(node, "a Constant of a kind netc does not read");
        }
        return true;
      }
      case "Shape": {
        const s = this.shapes.get(this.resolve(node.inputs[0]!));
        if (!s) return false;
        const full: Dim[] = ["N", ...s];
        const start = this.intAttr(node, "start", 0);
        const end = this.intAttr(node, "end", full.length);
        this.ints.set(out, full.slice(start, end));
        return true;
      }
    }
    if (!allConst || node.inputs.length === 0) return false;
    // A constant reshaped (PReLU's slope as [C, 1, 1]): the same values under other dims.
    const data = this.consts.get(node.inputs[0]!);
    if (
      data?.values.type === "float" &&
      ["Reshape", "Unsqueeze", "Squeeze", "Identity"].includes(node.opType)
    ) {
      this.consts.set(out, { ...data, name: out });
      return true;
    }
    const ints = node.inputs.map((i) => this.dims(i));
    if (ints.some((v) => v === undefined)) return false;
    const [a, b] = ints as Dim[][];
    const arith = (f: (x: number, y: number) => number) => {
      if (!a || !b) return false;
      const n = Math.max(a.length, b.length);
      const r: Dim[] = [];
      for (let i = 0; i < n; i++) {
        const x = a[a.length === 1 ? 0 : i]!;
        const y = b[b.length === 1 ? 0 : i]!;
        if (x === "N" || y === "N") return false;
        r.push(f(x, y));
      }
      this.ints.set(out, r);
      return true;
    };
    switch (node.opType) {
      case "Gather": {
        if (!b || this.intAttr(node, "axis", 0) !== 0) return false;
        this.ints.set(
          out,
          b!.map((i) => a![typeof i === "number" && i < 0 ? a!.length + i : (i as number)]!),
        );
        return true;
      }
      case "Unsqueeze":
      case "Squeeze":
      case "Cast":
      case "Identity":
        this.ints.set(out, a!);
        return true;
      case "Concat":
        this.ints.set(out, (ints as Dim[][]).flat());
        return true;
      case "Slice": {
        if (ints.length < 3) return false;
        const [start, end] = [Number(ints[1]![0]), Number(ints[2]![0])];
        const len = a!.length;
        const s = start < 0 ? len + start : Math.min(start, len);
        const e = end < 0 ? len + end : Math.min(end, len);
        this.ints.set(out, a!.slice(s, e));
        return true;
      }
      case "Mul":
        return arith((x, y) => x * y);
      case "Div":
        return arith((x, y) => Math.trunc(x / y));
      case "Add":
        return arith((x, y) => x + y);
      case "Sub":
        return arith((x, y) => x - y);
    }
    return false;
  }

  private readonly handlers: Record<string, (n: OnnxNode) => void> = {
    Conv: (n) => this.conv(n, false),
    ConvTranspose: (n) => this.conv(n, true),
    Gemm: (n) => this.gemm(n),
    MatMul: (n) => this.matmul(n),
    MaxPool: (n) => this.pool(n, "Max"),
    AveragePool: (n) => this.pool(n, "Average"),
    GlobalAveragePool: (n) => this.globalPool(n, "Average"),
    GlobalMaxPool: (n) => this.globalPool(n, "Max"),
    BatchNormalization: (n) => this.batchNorm(n),
    Resize: (n) => this.resize(n),
    Upsample: (n) => this.resize(n),
    Concat: (n) => {
      const inputs = n.inputs.map((_, i) => this.input(n, i));
      const rank = this.shape(n, inputs[0]!).length + 1;
      const axis = this.intAttr(n, "axis", 1);
      if ((axis + rank) % rank !== 1)
        this.fail(n, `netc joins along the channels (axis 1), not axis ${axis}`);
      this.add(n, "Concat", {}, inputs);
    },
    Add: (n) => this.join(n, "Add"),
    Sum: (n) => this.join(n, "Add"),
    Mul: (n) => this.join(n, "Mul"),
    Unsqueeze: (n) => this.unsqueeze(n),
    LayerNormalization: (n) => this.layerNorm(n),
    InstanceNormalization: (n) => this.instanceNorm(n),
    Flatten: (n) => {
      if (this.intAttr(n, "axis", 1) !== 1) this.fail(n, "netc flattens each sample (axis 1) only");
      this.add(n, "Flatten", {}, [this.input(n)]);
    },
    Reshape: (n) => this.reshape(n),
    Softmax: (n) => this.softmax(n, "SoftMax"),
    LogSoftmax: (n) => this.softmax(n, "LogSoftMax"),
    Dropout: (n) => {
      if (this.usedOutputs(n) > 0) this.fail(n, "its mask output is used; netc's Dropout has none");
      const ratio = this.floats(n, n.inputs[1])?.[0] ?? this.floatAttr(n, "ratio", 0.5);
      this.add(n, "Dropout", { p: ratio }, [this.input(n)]);
    },
    Identity: (n) => {
      this.alias.set(n.outputs[0]!, this.input(n));
    },
    Pad: (n) => this.pad(n),
    Relu: (n) => this.add(n, "ReLU", {}, [this.input(n)]),
    Sigmoid: (n) => this.gate(n, "Sigmoid", "SiLU"),
    Tanh: (n) => this.add(n, "Tanh", {}, [this.input(n)]),
    LeakyRelu: (n) =>
      this.add(n, "LeakyReLU", { slope: this.floatAttr(n, "alpha", 0.01) }, [this.input(n)]),
    Elu: (n) => this.add(n, "ELU", { alpha: this.floatAttr(n, "alpha", 1) }, [this.input(n)]),
    Softplus: (n) => this.add(n, "SoftPlus", {}, [this.input(n)]),
    Softsign: (n) => this.add(n, "SoftSign", {}, [this.input(n)]),
    HardSwish: (n) => this.add(n, "HardSwish", {}, [this.input(n)]),
    HardSigmoid: (n) => {
      const [alpha, beta] = [this.floatAttr(n, "alpha", 0.2), this.floatAttr(n, "beta", 0.5)];
      if (Math.abs(alpha - 1 / 6) > 1e-6 || beta !== 0.5)
        this.fail(
          n,
          `netc's HardSigmoid is PyTorch's (alpha 1/6, beta 0.5), not alpha ${alpha}, beta ${beta}`,
        );
      this.gate(n, "HardSigmoid", "HardSwish");
    },
    Clip: (n) => this.clip(n),
    PRelu: (n) => this.prelu(n),
    Gelu: (n) => {
      const approximate = this.stringAttr(n, "approximate", "none") === "tanh";
      this.add(n, "GELU", { approximate }, [this.input(n)]);
    },
    Div: (n) => this.erfGelu(n),
  };

  /**
   * The spatial axes of a windowed node's input: 1 for [channels, length] (the Temporal
   * layers), 2 for [channels, height, width].
   */
  private axes(n: OnnxNode, x: string): 1 | 2 {
    const rank = this.shape(n, x).length;
    if (rank !== 2 && rank !== 3)
      this.fail(n, "netc's windowed layers take [channels, length] or [channels, height, width]");
    return rank === 2 ? 1 : 2;
  }

  private conv(n: OnnxNode, transposed: boolean): void {
    const x = this.input(n);
    const axes = this.axes(n, x);
    const w = this.floats(n, n.inputs[1]);
    const wShape = this.constShape(n.inputs[1]!);
    if (!w || !wShape || wShape.length !== axes + 2)
      this.fail(n, `netc needs a constant ${axes + 2}-D weight (${axes}-D convolution)`);
    if (transposed && axes === 1) this.fail(n, "netc has no 1-D transposed convolution");
    const group = this.intAttr(n, "group", 1);
    const pads = transposed || axes === 1 ? this.pads(n, axes) : this.zeroPadded(n, x);
    const input = pads ? x : `${n.outputs[0]}/pad`;
    const bias = this.floats(n, n.inputs[2]);
    const args: Record<string, ArgValue> = {
      // ONNX's weights are PyTorch's: [out, in/group, ...] and, transposed, [in, out/group, ...].
      out: transposed ? wShape[1]! * group : wShape[0]!,
      kernel: perAxis(this.axisValues(n, "kernel_shape", axes, wShape.slice(2))),
      stride: perAxis(this.axisValues(n, "strides", axes, 1)),
      pad: perAxis(pads ?? Array<number>(axes).fill(0)),
      bias: bias !== undefined,
      dilation: perAxis(this.axisValues(n, "dilations", axes, 1)),
      groups: group,
    };
    if (transposed) {
      if (this.intsAttr(n, "output_shape"))
        this.fail(n, "netc's SpatialFullConvolution takes output_padding, not output_shape");
      args["adj"] = perAxis(this.axisValues(n, "output_padding", axes, 0));
    }
    const params: Record<string, Float32Array> = { weight: w };
    if (bias) params["bias"] = bias;
    const op = transposed
      ? "SpatialFullConvolution"
      : axes === 1
        ? "TemporalConvolution"
        : "SpatialConvolution";
    this.add(n, op, args, [input], params);
  }

  /**
   * A 2-D convolution's pads: [h, w] when symmetric; otherwise a SpatialZeroPadding layer is
   * added before it (its output `<output>/pad`) and undefined returned, the convolution then
   * unpadded.
   */
  private zeroPadded(n: OnnxNode, x: string): number[] | undefined {
    const p = this.intsAttr(n, "pads");
    if (
      this.stringAttr(n, "auto_pad", "NOTSET") !== "NOTSET" ||
      p?.length !== 4 ||
      (p[0] === p[2] && p[1] === p[3])
    )
      return this.pads(n, 2);
    const [top, left, bottom, right] = p;
    // No label of its own: the node's name is the convolution's.
    this.add(
      { ...n, name: "" },
      "SpatialZeroPadding",
      { left, right, top, bottom },
      [x],
      {},
      `${n.outputs[0]}/pad`,
    );
    return undefined;
  }

  /** Symmetric pads (each axis's start, then its end) as one per axis; auto_pad NOTSET or VALID. */
  private pads(n: OnnxNode, axes: number): number[] {
    const auto = this.stringAttr(n, "auto_pad", "NOTSET");
    if (auto !== "NOTSET" && auto !== "VALID")
      this.fail(n, `netc has no auto_pad=${auto}: give explicit pads`);
    const p = this.intsAttr(n, "pads") ?? Array<number>(2 * axes).fill(0);
    const starts = p.slice(0, axes);
    if (p.length !== 2 * axes || starts.some((v, i) => v !== p[axes + i]))
      this.fail(n, `netc pads both sides alike, not pads=[${p.join(", ")}]`);
    return starts;
  }

  private linear(
    n: OnnxNode,
    x: string,
    weight: Float32Array,
    out: number,
    bias?: Float32Array,
    output?: string,
  ): void {
    const params: Record<string, Float32Array> = { weight };
    if (bias) params["bias"] = bias;
    this.add(n, "Linear", { out, bias: bias !== undefined }, [x], params, output);
  }

  private gemm(n: OnnxNode): void {
    const x = this.input(n);
    if (this.intAttr(n, "transA", 0) !== 0)
      this.fail(n, "netc's Linear takes the input untransposed (transA=0)");
    const w = this.floats(n, n.inputs[1]);
    const shape = this.constShape(n.inputs[1]!);
    if (!w || shape?.length !== 2) this.fail(n, "netc needs a constant 2-D weight");
    const transB = this.intAttr(n, "transB", 0) === 1;
    const [alpha, beta] = [this.floatAttr(n, "alpha", 1), this.floatAttr(n, "beta", 1)];
    const out = transB ? shape[0]! : shape[1]!;
    const weight = (transB ? w : transpose(w, shape[0]!, shape[1]!)).map((v) => v * alpha);
    const c = this.floats(n, n.inputs[2]);
    if (n.inputs[2] && !c) this.fail(n, "netc needs a constant bias");
    if (c && c.length !== out)
      this.fail(n, `netc's bias has one value per output, not a tensor of ${c.length}`);
    this.linear(
      n,
      x,
      weight,
      out,
      c?.map((v) => v * beta),
    );
  }

  /** MatMul by a constant [in, out], and an Add of a constant [out] after it: a Linear. */
  private matmul(n: OnnxNode): void {
    const x = this.input(n);
    if (this.shape(n, x).length !== 1)
      this.fail(n, "netc's Linear takes [batch, features], not a higher rank");
    const w = this.floats(n, n.inputs[1]);
    const shape = this.constShape(n.inputs[1]!);
    if (!w || shape?.length !== 2) this.fail(n, "netc multiplies by a constant 2-D weight only");
    const out = shape[1]!;
    const weight = transpose(w, shape[0]!, out);
    const next = this.consumers.get(n.outputs[0]!);
    const add = next?.length === 1 && next[0]!.opType === "Add" ? next[0]! : undefined;
    const biasName = add?.inputs.find((i) => i !== n.outputs[0]);
    const bias = add && biasName ? this.floats(add, biasName) : undefined;
    if (add && bias && bias.length === out) {
      this.done.add(add);
      this.linear(n, x, weight, out, bias, add.outputs[0]);
    } else this.linear(n, x, weight, out);
  }

  private pool(n: OnnxNode, kind: "Max" | "Average"): void {
    const absorbed = this.padded.get(n.inputs[0]!);
    const x = absorbed?.input ?? this.input(n);
    const axes = this.axes(n, x);
    if (this.usedOutputs(n) > 0)
      this.fail(n, "its indices output is used; netc's pooling has none");
    const dilations = this.intsAttr(n, "dilations");
    if (dilations?.some((d) => d !== 1)) this.fail(n, "netc has no dilated pooling");
    if (!this.intsAttr(n, "kernel_shape")) this.fail(n, "its kernel_shape is missing");
    const kernel = this.axisValues(n, "kernel_shape", axes, []);
    const stride = this.axisValues(n, "strides", axes, 1);
    const ceil = this.intAttr(n, "ceil_mode", 0) === 1;
    const includePad = this.intAttr(n, "count_include_pad", 0) === 1;
    const p = this.intsAttr(n, "pads") ?? Array<number>(2 * axes).fill(0);
    // Average pooling leaving out end pads only (count_include_pad=0, no ceil), perhaps after a
    // Pad of zeros: netc's ceil-mode pooling, whose last window is divided by its part inside
    // the input, the Pad's zeros counted (count_include_pad). Taken when the window counts agree.
    const overrun =
      kind === "Average" && this.endsOnly(n, axes) && p.slice(axes).some((v) => v > 0);
    const pad = absorbed?.pad ?? (overrun ? kernel.map(() => 0) : this.pads(n, axes));
    const args: Record<string, ArgValue> = {
      kernel: perAxis(kernel),
      stride: perAxis(stride),
      pad: perAxis(pad),
      ceil: ceil || overrun,
    };
    // Without padding the flag changes nothing: netc's default (true), which the call then omits.
    if (kind === "Average")
      args["count_include_pad"] = includePad || absorbed !== undefined || pad.every((v) => v === 0);
    const op = `${axes === 1 ? "Temporal" : "Spatial"}${kind}Pooling`;
    this.add(n, op, args, [x]);
    if (!overrun && !absorbed) return;
    const sizes = this.shape(n, x).slice(1);
    const expected = sizes.map(
      (size, i) => Math.floor((size + 2 * pad[i]! + p[axes + i]! - kernel[i]!) / stride[i]!) + 1,
    );
    const got = this.shapes.get(n.outputs[0]!)!.slice(1);
    if (got.some((v, i) => v !== expected[i]))
      this.fail(
        n,
        `netc's ceil-mode pooling gives [${got.join(", ")}], not [${expected.join(", ")}]`,
      );
  }

  /** An ints attribute of one value per spatial axis: `fallback` (a list, or a value for each) when absent. */
  private axisValues(
    n: OnnxNode,
    name: string,
    axes: number,
    fallback: number | number[],
  ): number[] {
    const v =
      this.intsAttr(n, name) ??
      (typeof fallback === "number" ? Array<number>(axes).fill(fallback) : fallback);
    if (v.length !== axes)
      this.fail(n, `its ${name} [${v.join(", ")}] does not fit its ${axes}-D input`);
    return v;
  }

  /** An AveragePool whose pads are at the ends only and left out (count_include_pad=0, no ceil). */
  private endsOnly(n: OnnxNode, axes: number): boolean {
    const p = this.intsAttr(n, "pads") ?? [];
    return (
      this.intAttr(n, "ceil_mode", 0) === 0 &&
      this.intAttr(n, "count_include_pad", 0) === 0 &&
      p.slice(0, axes).every((v) => v === 0)
    );
  }

  /**
   * A Pad of zeros, alike at both ends of each spatial axis and at most half the window, read
   * only by such an AveragePool: netc's export of a ceil-mode average pooling (onnx-layers.ts),
   * read back as the pooling's own padding. The Pad then adds no layer.
   */
  private padsAverage(n: OnnxNode, x: string, pads: Dim[] | undefined): boolean {
    const readers = this.consumers.get(n.outputs[0]!);
    const pool = readers?.length === 1 ? readers[0]! : undefined;
    const axes = this.shape(n, x).length - 1;
    const kernel = pool && this.intsAttr(pool, "kernel_shape");
    const [starts, ends] = [pads?.slice(0, axes + 2), pads?.slice(axes + 2)];
    const fits =
      pool?.opType === "AveragePool" &&
      !this.graph.outputs.some((o) => o.name === n.outputs[0]) &&
      this.endsOnly(pool, axes) &&
      kernel?.length === axes &&
      pads?.length === 2 * (axes + 2) &&
      starts!.every((v, i) => v === ends![i] && (i < 2 ? v === 0 : typeof v === "number")) &&
      kernel.every((k, i) => 2 * (starts![i + 2] as number) <= k);
    if (fits) this.padded.set(n.outputs[0]!, { input: x, pad: starts!.slice(2) as number[] });
    return fits;
  }

  /** A global pooling: adaptive to 1×1 on images, a window the whole length on signals. */
  private globalPool(n: OnnxNode, kind: "Max" | "Average"): void {
    const x = this.input(n);
    const shape = this.shape(n, x);
    if (this.axes(n, x) === 2)
      return this.add(n, `SpatialAdaptive${kind}Pooling`, { h: 1, w: 1 }, [x]);
    this.add(n, `Temporal${kind}Pooling`, { kernel: shape[1]! }, [x]);
  }

  /** Pad of height and width only: zeros (or cropping), reflection or the edge repeated. */
  private pad(n: OnnxNode): void {
    const x = this.input(n);
    const modes = {
      constant: "SpatialZeroPadding",
      reflect: "SpatialReflectionPadding",
      edge: "SpatialReplicationPadding",
    } as const;
    const mode = this.stringAttr(n, "mode", "constant");
    const op = modes[mode as keyof typeof modes];
    if (!op) this.fail(n, `netc has no ${mode} padding`);
    const pads = this.dims(n.inputs[1]) ?? this.intsAttr(n, "pads");
    if (n.inputs[3]) this.fail(n, "netc pads height and width, given no axes");
    const value = this.floats(n, n.inputs[2])?.[0] ?? this.floatAttr(n, "value", 0);
    if (mode === "constant" && value !== 0) this.fail(n, `netc pads with zeros, not ${value}`);
    if (mode === "constant" && this.padsAverage(n, x, pads)) return;
    if (pads?.length !== 8 || [0, 1, 4, 5].some((i) => pads[i] !== 0))
      this.fail(n, "netc pads height and width only, from constant pads");
    const [, , top, left, , , bottom, right] = pads as number[];
    this.add(n, op, { left, right, top, bottom }, [x]);
  }

  private batchNorm(n: OnnxNode): void {
    const x = this.input(n);
    if (this.usedOutputs(n) > 0)
      this.fail(n, "training-mode outputs are used; netc imports inference graphs");
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => this.floats(n, n.inputs[i]));
    if (!scale || !bias || !mean || !variance)
      this.fail(n, "netc needs constant scale, bias, mean and variance");
    const rank = this.shape(n, x).length;
    const op = rank === 3 ? "SpatialBatchNormalization" : "BatchNormalization";
    const eps = this.floatAttr(n, "epsilon", 1e-5);
    const momentum = 1 - this.floatAttr(n, "momentum", 0.9);
    this.add(n, op, { eps: round(eps), momentum: round(momentum) }, [x], {
      weight: scale,
      bias,
      running_mean: mean,
      running_var: variance,
    });
  }

  private resize(n: OnnxNode): void {
    const x = this.input(n);
    const [, H, W] = this.shape(n, x);
    const scales =
      n.opType === "Upsample" && this.opset < 9
        ? this.floatsAttr(n, "scales")
        : // Resize took (X, scales) at opset 10, (X, roi, scales, sizes) from 11.
          this.dims(n.inputs[n.opType === "Upsample" || this.opset < 11 ? 1 : 2]);
    const sizes = n.opType === "Resize" ? this.dims(n.inputs[3]) : undefined;
    let factor: number | undefined;
    if (scales && scales.length === 4) {
      const [, , sh, sw] = scales;
      if (sh === sw && Number.isInteger(sh)) factor = sh as number;
    } else if (sizes && sizes.length === 4 && H && W) {
      const [, , oh, ow] = sizes as number[];
      if (oh! % H === 0 && oh! / H === ow! / W) factor = oh! / H;
    }
    if (factor === undefined)
      this.fail(n, "netc upsamples height and width by one integer factor only");
    const mode = this.stringAttr(n, "mode", "nearest");
    const transform = this.stringAttr(n, "coordinate_transformation_mode", "half_pixel");
    if (mode === "nearest") {
      const nearest = this.stringAttr(n, "nearest_mode", "round_prefer_floor");
      const integral =
        transform === "asymmetric" && (nearest === "floor" || n.opType === "Upsample");
      if (!integral && n.opType === "Resize")
        this.fail(
          n,
          `netc's nearest upsampling is PyTorch's (asymmetric, floor), not ${transform}, ${nearest}`,
        );
      this.add(n, "SpatialUpSamplingNearest", { scale: factor }, [x]);
    } else if (mode === "linear" || mode === "bilinear") {
      const corners = transform === "align_corners";
      if (!corners && transform !== "half_pixel" && transform !== "pytorch_half_pixel")
        this.fail(n, `netc's bilinear upsampling is half_pixel or align_corners, not ${transform}`);
      this.add(n, "SpatialUpSamplingBilinear", { scale: factor, align_corners: corners }, [x]);
    } else this.fail(n, `netc has no ${mode} upsampling`);
  }

  private floatsAttr(n: OnnxNode, name: string): number[] | undefined {
    const a = this.attr(n, name);
    return a?.kind === "floats" ? a.value : undefined;
  }

  /** Add or Sum of computed values of one shape; a constant added elsewhere than after MatMul is not a layer. */
  private join(n: OnnxNode, op: "Add" | "Mul"): void {
    const verb = op === "Add" ? "adds" : "multiplies";
    if (n.inputs.some((i) => this.consts.has(i) || this.ints.has(i)))
      this.fail(n, `netc ${verb} values the model computes, not a constant tensor`);
    const inputs = n.inputs.map((_, i) => this.input(n, i));
    // ONNX aligns whole shapes, the batch included; netc the per-sample ones after it.
    if (new Set(inputs.map((i) => this.shape(n, i).length)).size > 1)
      this.fail(
        n,
        "its inputs differ in rank: ONNX would align the batch with a sample's dimension",
      );
    this.add(n, op, {}, inputs);
  }

  /** Unsqueeze after the batch: a View with the dimensions of 1 inserted. */
  private unsqueeze(n: OnnxNode): void {
    const x = this.input(n);
    const axes = this.dims(n.inputs[1]) ?? this.intsAttr(n, "axes");
    const shape = [...this.shape(n, x)];
    const rank = shape.length + 1 + (axes?.length ?? 0);
    const at = axes?.map((a) => (typeof a === "number" && a < 0 ? a + rank : a)).sort();
    if (!at || at.some((a) => typeof a !== "number" || a < 1 || a >= rank))
      this.fail(n, "netc inserts dimensions after the batch only, given constant axes");
    for (const a of at as number[]) shape.splice(a - 1, 0, 1);
    this.add(n, "View", { dims: shape }, [x]);
  }

  private layerNorm(n: OnnxNode): void {
    const x = this.input(n);
    const rank = this.shape(n, x).length + 1;
    const axis = this.intAttr(n, "axis", -1);
    if ((axis + rank) % rank !== 1)
      this.fail(
        n,
        `netc normalises each sample over all its values (axis 1), not from axis ${axis}`,
      );
    const weight = this.floats(n, n.inputs[1]);
    if (!weight) this.fail(n, "netc needs a constant scale");
    const bias = this.floats(n, n.inputs[2]) ?? new Float32Array(weight.length);
    if (this.usedOutputs(n) > 0) this.fail(n, "its mean or variance output is used");
    const eps = round(this.floatAttr(n, "epsilon", 1e-5));
    this.add(n, "LayerNormalization", { eps, affine: true }, [x], { weight, bias });
  }

  private instanceNorm(n: OnnxNode): void {
    const x = this.input(n);
    const [weight, bias] = [this.floats(n, n.inputs[1]), this.floats(n, n.inputs[2])];
    if (!weight || !bias) this.fail(n, "netc needs a constant scale and bias");
    const eps = round(this.floatAttr(n, "epsilon", 1e-5));
    this.add(n, "InstanceNormalization", { eps, affine: true }, [x], { weight, bias });
  }

  /**
   * Group normalisation as netc exports it (opset 17 has no GroupNormalization): Reshape to
   * [N, groups, rest], InstanceNormalization with a unit scale and no shift, Reshape back, then
   * optionally Mul by one scale per channel and Add one shift per channel. False when the
   * Reshape at `n` does not start that pattern.
   */
  private groupNorm(n: OnnxNode): boolean {
    const only = (v: string, op: string) => {
      const c = this.consumers.get(v);
      return c?.length === 1 && c[0]!.opType === op ? c[0]! : undefined;
    };
    const x = this.resolve(n.inputs[0]!);
    const input = this.shapes.get(x);
    const target = this.dims(n.inputs[1]);
    const norm = only(n.outputs[0]!, "InstanceNormalization");
    const back = norm && only(norm.outputs[0]!, "Reshape");
    if (!input || input.length < 2 || target?.length !== 3 || !norm || !back) return false;
    const groups = target[1];
    const [ones, zeros] = [this.floats(norm, norm.inputs[1]), this.floats(norm, norm.inputs[2])];
    const restored = this.dims(back.inputs[1]);
    const unit = ones?.every((v) => v === 1) && zeros?.every((v) => v === 0);
    const sameShape =
      restored?.length === input.length + 1 && restored.slice(1).every((d, i) => d === input[i]);
    if (typeof groups !== "number" || ones?.length !== groups || !unit || !sameShape) return false;
    const C = input[0]!;
    const mul = only(back.outputs[0]!, "Mul");
    const add = mul && only(mul.outputs[0]!, "Add");
    // The other input of `node` if it holds one value per channel, and where it was reshaped
    // from (the initializer `3.n1.weight`, whose name labels the layer).
    const perChannel = (node: OnnxNode | undefined, from: string) => {
      const other = node?.inputs.find((i) => this.resolve(i) !== from);
      const values = node && other ? this.floats(node, other) : undefined;
      if (values?.length !== C) return undefined;
      const reshaped = this.graph.nodes.find((m) => m.outputs.includes(other!));
      return { values, name: reshaped?.inputs[0] ?? other! };
    };
    const scale = perChannel(mul, back.outputs[0]!);
    const shift = scale && perChannel(add, mul!.outputs[0]!);
    const [weight, bias] = [scale?.values, shift?.values];
    const eps = round(this.floatAttr(norm, "epsilon", 1e-5));
    const last = weight && bias ? add! : back;
    for (const m of [norm, back, ...(weight && bias ? [mul!, add!] : [])]) this.done.add(m);
    const params: Record<string, Float32Array> = weight && bias ? { weight, bias } : {};
    const args = { groups, eps, affine: weight !== undefined && bias !== undefined };
    const from = { ...n, inputs: [x, ...(shift ? [scale!.name, shift.name] : [])] };
    this.add(from, "GroupNormalization", args, [x], params, last.outputs[0]);
    return true;
  }

  private reshape(n: OnnxNode): void {
    if (this.groupNorm(n)) return;
    const x = this.input(n);
    const target = this.dims(n.inputs[1]) ?? this.intsAttr(n, "shape");
    if (!target) this.fail(n, "its target shape is not a constant netc can fold");
    const [batch, ...rest] = target;
    if (batch !== "N" && batch !== -1 && batch !== 0)
      this.fail(
        n,
        `netc keeps the batch dimension first; the target [${target.join(", ")}] moves it`,
      );
    if (rest.some((d) => d === "N"))
      this.fail(n, "the batch size appears in a per-sample dimension");
    const input = this.shape(n, x);
    const dims = (rest as number[]).map((d, i) => (d === 0 ? input[i]! : d));
    this.add(n, "View", { dims }, [x]);
    // Written with the -1 worked out: `View(72)` says more than `View(-1)`.
    const view = this.terms[this.terms.length - 1]!;
    view.args["dims"] = [...this.shapes.get(view.output)!];
  }

  private softmax(n: OnnxNode, op: "SoftMax" | "LogSoftMax"): void {
    const x = this.input(n);
    const rank = this.shape(n, x).length + 1;
    const axis = this.intAttr(n, "axis", this.opset >= 13 ? -1 : 1);
    if ((axis + rank) % rank !== 1)
      this.fail(n, `netc normalises over the channels (axis 1), not axis ${axis}`);
    if (this.opset < 13 && rank > 2)
      this.fail(
        n,
        `before opset 13, ${n.opType} flattens from its axis: not netc's channel-wise ${op}`,
      );
    this.add(n, op, {}, [x]);
  }

  /**
   * An activation `gate`, or x·gate(x) (`gated`): torch exports SiLU as x·Sigmoid(x), and
   * Hardswish before opset 14 as x·HardSigmoid(x).
   */
  private gate(n: OnnxNode, op: string, gated: string): void {
    const x = this.input(n);
    const next = this.consumers.get(n.outputs[0]!);
    const mul = next?.length === 1 && next[0]!.opType === "Mul" ? next[0]! : undefined;
    if (mul && mul.inputs.map((i) => this.resolve(i)).includes(x)) {
      this.done.add(mul);
      this.add(n, gated, {}, [x], {}, mul.outputs[0]);
    } else this.add(n, op, {}, [x]);
  }

  /** 0.5·x·(1 + erf(x/√2)) as torch exports GELU: Div by √2, Erf, Add 1, Mul by x, Mul by 0.5. */
  private erfGelu(div: OnnxNode): void {
    const x = this.input(div);
    const only = (v: string, op: string) => {
      const c = this.consumers.get(v);
      return c?.length === 1 && c[0]!.opType === op ? c[0]! : undefined;
    };
    const erf = only(div.outputs[0]!, "Erf");
    const add = erf && only(erf.outputs[0]!, "Add");
    const mul1 = add && only(add.outputs[0]!, "Mul");
    const mul2 = mul1 && only(mul1.outputs[0]!, "Mul");
    const constant = (node: OnnxNode | undefined, v: number) =>
      node?.inputs.some((i) => Math.abs((this.floats(node, i)?.[0] ?? NaN) - v) < 1e-4);
    const gelu =
      constant(div, Math.SQRT2) &&
      constant(add, 1) &&
      mul1?.inputs.some((i) => this.resolve(i) === x) &&
      constant(mul2, 0.5);
    if (!gelu || !erf || !add || !mul1 || !mul2)
      this.fail(
        div,
        "netc has no layer for Div (it reads one only in GELU's 0.5·x·(1 + erf(x/√2)))",
      );
    for (const m of [erf, add, mul1, mul2]) this.done.add(m);
    this.add(div, "GELU", {}, [x], {}, mul2.outputs[0]);
  }

  private clip(n: OnnxNode): void {
    const x = this.input(n);
    const lo = this.floats(n, n.inputs[1])?.[0] ?? this.floatAttr(n, "min", -Infinity);
    const hi = this.floats(n, n.inputs[2])?.[0] ?? this.floatAttr(n, "max", Infinity);
    if (lo === 0 && hi === 6) return this.add(n, "ReLU6", {}, [x]);
    if (lo === 0 && hi === Infinity) return this.add(n, "ReLU", {}, [x]);
    if (!Number.isFinite(lo) || !Number.isFinite(hi))
      this.fail(n, "netc clips between two finite bounds (HardTanh)");
    this.add(n, "HardTanh", { min_val: lo, max_val: hi }, [x]);
  }

  private prelu(n: OnnxNode): void {
    const x = this.input(n);
    const slope = this.floats(n, n.inputs[1]);
    if (!slope) this.fail(n, "netc needs a constant slope");
    const C = this.shape(n, x)[0]!;
    if (slope.length !== 1 && slope.length !== C)
      this.fail(n, "netc's PReLU has one slope, or one per channel");
    this.add(n, "PReLU", { num_parameters: slope.length, init: 0.25 }, [x], { weight: slope });
  }

  // ---- writing ----

  private write(inputNames: string[], header: string, modelName: string): ImportResult {
    const graphOutputs = this.graph.outputs.map((o) => ({
      onnx: o.name,
      value: this.resolve(o.name),
    }));
    for (const o of graphOutputs)
      if (!this.shapes.has(o.value))
        return {
          ok: false,
          problems: [
            {
              node: o.onnx,
              opType: "output",
              message: `output '${o.onnx}' is not computed by a layer netc has`,
            },
          ],
        };

    // Values and labels are named apart (`seg = h6 -> seg: SpatialConvolution(...)` is fine), so
    // that a label keeps its initializers' name, PyTorch's, whatever the outputs are called.
    const namer = () => {
      const taken = new Set<string>();
      return (wanted: string) => {
        let name = wanted;
        for (let k = 2; taken.has(name); k++) name = `${wanted}_${k}`;
        taken.add(name);
        return name;
      };
    };
    const unique = namer();
    const uniqueLabel = namer();
    // The model's inputs and outputs are named first.
    const valueName = new Map<string, string>();
    for (const i of inputNames) valueName.set(i, unique(identifier(i) ?? "x"));
    const outputNames = graphOutputs.map((o) => unique(identifier(o.onnx) ?? "y"));
    graphOutputs.forEach((o, i) => {
      if (!valueName.has(o.value)) valueName.set(o.value, outputNames[i]!);
    });
    for (const t of this.terms) {
      const prefix = Object.keys(t.params).length ? this.paramPrefix(t) : undefined;
      // A positional name (`3`, netc's own for an unlabelled layer) is no label.
      const stripped = stripOp(t.from.name, t.from.opType);
      const fromNode = /^[A-Za-z_]/.test(stripped) ? identifier(stripped) : undefined;
      const wanted =
        prefix ?? fromNode ?? (Object.keys(t.params).length ? t.op.toLowerCase() : undefined);
      if (wanted) t.label = uniqueLabel(wanted);
    }

    // A chain continues through a value with one consumer that is no output of the model.
    const uses = new Map<string, number>();
    for (const t of this.terms) for (const i of t.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
    const isOutput = new Set(graphOutputs.map((o) => o.value));
    const flat =
      inputNames.length === 1 &&
      graphOutputs.length === 1 &&
      this.terms.every(
        (t, k) =>
          t.inputs.length === 1 &&
          t.inputs[0] === (k === 0 ? inputNames[0] : this.terms[k - 1]!.output),
      ) &&
      this.terms[this.terms.length - 1]?.output === graphOutputs[0]!.value &&
      this.terms.slice(0, -1).every((t) => uses.get(t.output) === 1 && !isOutput.has(t.output));

    const lines: string[] = [];
    for (const i of inputNames)
      lines.push(`  input ${valueName.get(i)}: [${this.shapes.get(i)!.join(", ")}]`);
    if (flat) {
      for (const t of this.terms) lines.push(`  ${this.layerText(t)}`);
    } else {
      let k = 0;
      const nameOf = (v: string) => {
        if (!valueName.has(v)) valueName.set(v, unique(`h${++k}`));
        return valueName.get(v)!;
      };
      let chain: string[] = [];
      let chainEnd: string | undefined;
      const flush = () => {
        if (chainEnd === undefined) return;
        lines.push(`  ${nameOf(chainEnd)} = ${chain.join(" -> ")}`);
        chain = [];
        chainEnd = undefined;
      };
      for (const t of this.terms) {
        const continues =
          t.inputs.length === 1 &&
          t.inputs[0] === chainEnd &&
          uses.get(chainEnd) === 1 &&
          !isOutput.has(chainEnd);
        if (!continues) {
          flush();
          chain = t.inputs.length === 1 ? [nameOf(t.inputs[0]!)] : [];
        }
        chain.push(this.layerText(t, t.inputs.length > 1 ? t.inputs.map(nameOf) : undefined));
        chainEnd = t.output;
      }
      flush();
      lines.push(`  output ${graphOutputs.map((o) => valueName.get(o.value)).join(", ")}`);
    }
    const producers = new Map(this.terms.map((t) => [t.output, t]));
    const outputs = graphOutputs.map((o, i) => ({
      name: outputNames[i]!,
      last: producers.get(o.value)!,
    }));
    const body = `${header}\nmodel ${modelName} {\n${lines.join("\n")}\n}\n\n`;
    // The guess must check (CrossEntropy takes class scores); MSE takes any output.
    // In `netc fmt`'s layout (long chains broken before an arrow).
    const formatted = (text: string) => {
      const result = format(text);
      return "text" in result ? result.text : text;
    };
    const guessed = formatted(`${body}${criterion(outputs, flat, true)}`);
    const errors = check(guessed).diagnostics.some((d) => d.severity === "error");
    const source = errors ? formatted(`${body}${criterion(outputs, flat, false)}`) : guessed;
    return this.weights(source, modelName);
  }

  /** The parameters' common prefix in the ONNX file (`conv1` of `conv1.weight`), if any. */
  private paramPrefix(t: Term): string | undefined {
    const names = t.from.inputs.slice(1).filter((i) => this.consts.has(i));
    const prefixes = new Set(names.map((n) => n.replace(/\.[^.]*$/, "")));
    if (prefixes.size !== 1) return undefined;
    const [prefix] = prefixes;
    return prefix && prefix !== names[0] ? identifier(prefix) : undefined;
  }

  private layerText(t: Term, joined?: string[]): string {
    const def = layers.get(t.op)!;
    const parts: string[] = joined ? [...joined] : [];
    const shown: Record<string, ArgValue> = {};
    def.args.forEach((spec, i) => {
      const v = t.args[spec.name];
      if (v === undefined) return;
      if (spec.variadic) {
        parts.push(...(v as number[]).map(String));
        return;
      }
      const fallback =
        typeof spec.default === "function" ? spec.default({ ...t.args, ...shown }) : spec.default;
      if (fallback !== undefined && sameValue(v, fallback)) return;
      const text = formatValue(v);
      const required = spec.default === undefined && !spec.optional;
      parts.push(required && i === 0 && !joined ? text : `${spec.name}=${text}`);
      shown[spec.name] = v;
    });
    const call = parts.length ? `${t.op}(${parts.join(", ")})` : t.op;
    return t.label ? `${t.label}: ${call}` : call;
  }

  /** Checks the written file and gathers the weights under the names it gives them. */
  private weights(source: string, modelName: string): ImportResult {
    const result = check(source);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    // Each layer was checked as it was added: this would be a combination the import missed.
    if (errors.length || !result.models[0]) {
      const message = `the .net file it would write does not check: ${errors.map((e) => e.message).join("; ")}`;
      return { ok: false, problems: [{ node: modelName, opType: "model", message }] };
    }
    const byLabel = new Map(this.terms.filter((t) => t.label).map((t) => [t.label!, t]));
    const problems: ImportProblem[] = [];
    const tensors: NamedTensor[] = result.models[0].nodes.flatMap((node) =>
      node.params.flatMap((p) => {
        const local = p.name.slice(p.name.lastIndexOf(".") + 1);
        const term = byLabel.get(node.name);
        const data = term?.params[local];
        const size = p.shape.reduce((a, b) => a * b, 1);
        if (data?.length === size) return [{ name: p.name, shape: p.shape, data }];
        // A weight whose dims disagree with the node's attributes (kernel_shape, channels).
        problems.push({
          node: term?.from.name ?? node.name,
          opType: term?.from.opType ?? node.op,
          message: `its ${local} holds ${data?.length ?? 0} values; netc's ${node.op} takes [${p.shape.join(", ")}]`,
        });
        return [];
      }),
    );
    if (problems.length) return { ok: false, problems };
    return { ok: true, source, tensors, modelName };
  }
}

/**
 * ONNX has no loss: a criterion guessed from each output's last layer, said to be a guess, so that
 * `netc train` runs on the file as written.
 */
function criterion(
  outputs: { name: string; last: Term }[],
  flat: boolean,
  guessing: boolean,
): string {
  const guess = ({ last }: { last: Term }) => {
    if (!guessing) return "MSE";
    if (last.op === "LogSoftMax") return "NLL";
    if (last.op === "Sigmoid") return "BCE";
    if (last.op === "Linear") return "CrossEntropy";
    return "MSE";
  };
  const terms = outputs.map((o) => (flat ? guess(o) : `${guess(o)}(${o.name})`));
  return `# ONNX files hold no loss: this one is a guess from the last layer; write the one you train with.\ncriterion ${terms.join(" + ")}\n`;
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

/** A window argument from one value per spatial axis: a number in 1-D, [h, w] in 2-D. */
const perAxis = (v: readonly number[]): ArgValue => (v.length === 1 ? v[0]! : [v[0]!, v[1]!]);

/** An ONNX node name without torch's trailing `/OpType` (`/conv1/Conv` → `conv1`). */
function stripOp(name: string, opType: string): string {
  return name.replace(new RegExp(`/${opType}(_\\d+)?$`), "").replace(/^\//, "");
}

/** float32 attributes read back as the decimal they were written from (1e-5, not 9.99999974e-6). */
const round = (v: number) => Number(v.toPrecision(7));

function sameValue(a: ArgValue, b: ArgValue): boolean {
  const flat = (v: ArgValue) => (Array.isArray(v) && v.length === 2 && v[0] === v[1] ? v[0] : v);
  return JSON.stringify(flat(a)) === JSON.stringify(flat(b));
}

function formatValue(v: ArgValue): string {
  if (Array.isArray(v)) return v.length === 2 && v[0] === v[1] ? String(v[0]) : `[${v.join(", ")}]`;
  return typeof v === "number" ? String(round(v)) : String(v);
}
