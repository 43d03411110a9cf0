// How each catalog layer becomes ONNX nodes (opset 17): a table keyed by the layer's name, kept
// here rather than on the catalog entries so that the catalog stays about netc alone. A test
// enumerates the catalog and fails for a layer this table lacks.
import { adaptiveRange } from "../ops.js";
import { pair, type Args, type Shape } from "../catalog/types.js";
import type { OnnxAttribute } from "./onnx-proto.js";

/** What a layer's export sees, and how it adds nodes and constants to the graph. */
export interface OnnxEmitter {
  /** The layer's full name (`conv1`, `2.a`); its parameters are `<name>.<local>`. */
  readonly name: string;
  readonly args: Args;
  /** Per-sample shapes of the inputs and of the output (the batch dimension is implicit). */
  readonly inputShapes: readonly Shape[];
  readonly outputShape: Shape;
  /** Value names of the inputs, in order. */
  readonly x: readonly string[];
  /** The value name the layer's last node must write. */
  readonly y: string;
  /** The initializer name of one of the layer's parameters or buffers. */
  param(local: string): string;
  /** A constant initializer of the layer's own: float32 or int64 values. */
  floats(hint: string, values: readonly number[], dims?: number[]): string;
  ints(hint: string, values: readonly number[], dims?: number[]): string;
  /** Adds a node; it writes `output` (by default a fresh intermediate value), which it returns. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes?: OnnxAttribute[],
    output?: string,
  ): string;
}

export type LayerExport = (e: OnnxEmitter) => void;

const int = (name: string, value: number): OnnxAttribute => ({ name, kind: "int", value });
const ints = (name: string, value: number[]): OnnxAttribute => ({ name, kind: "ints", value });
const float = (name: string, value: number): OnnxAttribute => ({ name, kind: "float", value });
const str = (name: string, value: string): OnnxAttribute => ({ name, kind: "string", value });

/**
 * A window argument per spatial axis: `[h, w]` for an image layer, `[length]` for a 1-D one over
 * [channels, length] (whose arguments are single numbers).
 */
function perAxis(e: OnnxEmitter, name: string): number[] {
  const v = e.args[name];
  return e.inputShapes[0]!.length === 2 ? [v as number] : pair(v);
}

/** kernel_shape, strides and pads (every axis's start, then every axis's end) of a windowed layer. */
function windowAttributes(e: OnnxEmitter): OnnxAttribute[] {
  const pad = perAxis(e, "pad");
  return [
    ints("kernel_shape", perAxis(e, "kernel")),
    ints("strides", perAxis(e, "stride")),
    ints("pads", [...pad, ...pad]),
  ];
}

/** The layer's weight, and its bias when it has one. */
const weightInputs = (e: OnnxEmitter) => [
  e.x[0]!,
  e.param("weight"),
  ...(e.args["bias"] === true ? [e.param("bias")] : []),
];

const unary =
  (opType: string, attributes: (args: Args) => OnnxAttribute[] = () => []): LayerExport =>
  (e) =>
    e.op(opType, [e.x[0]!], attributes(e.args), e.y);

const num = (args: Args, name: string) => args[name] as number;

/** clamp(x, lo, hi): Clip with its bounds as scalar inputs (opset 11 and later). */
const clip =
  (bounds: (args: Args) => [number, number]): LayerExport =>
  (e) => {
    const [lo, hi] = bounds(e.args);
    e.op("Clip", [e.x[0]!, e.floats("min", [lo], []), e.floats("max", [hi], [])], [], e.y);
  };

function pooling(opType: "MaxPool" | "AveragePool"): LayerExport {
  return (e) => {
    if (
      opType === "AveragePool" &&
      e.args["ceil"] === true &&
      e.args["count_include_pad"] !== false
    ) {
      const overrun = ceilOverrun(e);
      if (overrun.some((o) => o > 0)) return averageOverrun(e, overrun);
    }
    const attributes = [...windowAttributes(e), int("ceil_mode", e.args["ceil"] ? 1 : 0)];
    if (opType === "AveragePool")
      attributes.push(int("count_include_pad", e.args["count_include_pad"] === false ? 0 : 1));
    e.op(opType, [e.x[0]!], attributes, e.y);
  };
}

/** Per axis, how far the last window of a ceil-mode pooling runs past the padded input. */
function ceilOverrun(e: OnnxEmitter): number[] {
  const [kernel, stride, pad] = ["kernel", "stride", "pad"].map((a) => perAxis(e, a));
  const sizes = e.inputShapes[0]!.slice(1);
  return e.outputShape.slice(1).map((out, i) => {
    const end = (out - 1) * stride![i]! - pad![i]! + kernel![i]!;
    return Math.max(0, end - sizes[i]! - pad![i]!);
  });
}

/**
 * An average pooling with ceil and count_include_pad whose last window runs past the padded
 * input: PyTorch divides that window by its part inside the padded input, ONNX Runtime by the
 * whole kernel. Written as the padding made explicit (a Pad of zeros, which then count), then
 * AveragePool without ceil, the overrun as end pads that count_include_pad=0 leaves out: the
 * same windows, each divided as PyTorch divides it.
 */
function averageOverrun(e: OnnxEmitter, overrun: number[]): void {
  const pad = perAxis(e, "pad");
  const x = pad.some((p) => p > 0)
    ? e.op("Pad", [e.x[0]!, e.ints("pads", [0, 0, ...pad, 0, 0, ...pad])])
    : e.x[0]!;
  const attributes = [
    ints("kernel_shape", perAxis(e, "kernel")),
    ints("strides", perAxis(e, "stride")),
    ints("pads", [...pad.map(() => 0), ...overrun]),
    int("count_include_pad", 0),
  ];
  e.op("AveragePool", [x], attributes, e.y);
}

/**
 * Conv and ConvTranspose, 1-D or 2-D: netc's weight layouts are ONNX's (PyTorch's), and ONNX
 * defines ConvTranspose's output size with dilation, pads and output_padding as PyTorch does.
 */
function convolution(opType: "Conv" | "ConvTranspose"): LayerExport {
  return (e) => {
    const attributes = [
      ...windowAttributes(e),
      ints("dilations", perAxis(e, "dilation")),
      int("group", num(e.args, "groups")),
    ];
    if (opType === "ConvTranspose") attributes.push(ints("output_padding", perAxis(e, "adj")));
    e.op(opType, weightInputs(e), attributes, e.y);
  };
}

/**
 * Adaptive pooling: global pooling for a 1×1 output, an ordinary pooling where the output divides
 * the input, and otherwise each output cell's window sliced and reduced, the cells concatenated
 * (ONNX has no adaptive pooling).
 */
function adaptive(kind: "Max" | "Average"): LayerExport {
  return (e) => {
    const [, H, W] = e.inputShapes[0]!;
    const [, OH, OW] = e.outputShape;
    if (OH === 1 && OW === 1) return void e.op(`Global${kind}Pool`, [e.x[0]!], [], e.y);
    if (H! % OH! === 0 && W! % OW! === 0) {
      const k = [H! / OH!, W! / OW!];
      const attributes = [ints("kernel_shape", k), ints("strides", k)];
      return void e.op(`${kind}Pool`, [e.x[0]!], attributes, e.y);
    }
    const axes = e.ints("axes", [2, 3]);
    const reduce = kind === "Max" ? "ReduceMax" : "ReduceMean";
    const rows = Array.from({ length: OH! }, (_, oh) => {
      const [h0, h1] = adaptiveRange(oh, H!, OH!);
      const cells = Array.from({ length: OW! }, (_, ow) => {
        const [w0, w1] = adaptiveRange(ow, W!, OW!);
        const starts = e.ints(`starts_${oh}_${ow}`, [h0, w0]);
        const ends = e.ints(`ends_${oh}_${ow}`, [h1, w1]);
        const window = e.op("Slice", [e.x[0]!, starts, ends, axes]);
        return e.op(reduce, [window], [ints("axes", [2, 3]), int("keepdims", 1)]);
      });
      return e.op("Concat", cells, [int("axis", 3)]);
    });
    e.op("Concat", rows, [int("axis", 2)], e.y);
  };
}

function padding(mode: "constant" | "reflect" | "edge"): LayerExport {
  return (e) => {
    const [left, right, top, bottom] = ["left", "right", "top", "bottom"].map((s) =>
      num(e.args, s),
    );
    const pads = e.ints("pads", [0, 0, top!, left!, 0, 0, bottom!, right!]);
    e.op("Pad", [e.x[0]!, pads], [str("mode", mode)], e.y);
  };
}

function batchNorm(e: OnnxEmitter): void {
  const C = e.inputShapes[0]![0]!;
  const [scale, shift] = e.args["affine"]
    ? [e.param("weight"), e.param("bias")]
    : [e.floats("weight", Array(C).fill(1)), e.floats("bias", Array(C).fill(0))];
  const inputs = [e.x[0]!, scale, shift, e.param("running_mean"), e.param("running_var")];
  // ONNX's momentum weighs the running statistic, PyTorch's the batch's.
  const attributes = [
    float("epsilon", num(e.args, "eps")),
    float("momentum", 1 - num(e.args, "momentum")),
  ];
  e.op("BatchNormalization", inputs, attributes, e.y);
}

/**
 * The inputs of Add and Mul, a shorter one given its missing dimensions after the batch: netc
 * aligns per-sample shapes from the last dimension, ONNX whole shapes, the batch included.
 */
function broadcastInputs(e: OnnxEmitter): string[] {
  const rank = Math.max(...e.inputShapes.map((s) => s.length));
  return e.x.map((x, i) => {
    const missing = rank - e.inputShapes[i]!.length;
    if (missing === 0) return x;
    const axes = e.ints(
      `axes_${i}`,
      Array.from({ length: missing }, (_, k) => k + 1),
    );
    return e.op("Unsqueeze", [x, axes]);
  });
}

/** A normalisation's scale and shift: its parameters, or ones and zeros of `shape` without affine. */
function affineOrIdentity(e: OnnxEmitter, shape: Shape): [string, string] {
  if (e.args["affine"] === true) return [e.param("weight"), e.param("bias")];
  const count = shape.reduce((a, b) => a * b, 1);
  return [
    e.floats("weight", Array(count).fill(1), [...shape]),
    e.floats("bias", Array(count).fill(0), [...shape]),
  ];
}

/**
 * GroupNormalization (an opset 18 op): the channels reshaped into [N, groups, rest],
 * InstanceNormalization over each group, the shape restored, then the per-channel affine.
 */
function groupNorm(e: OnnxEmitter): void {
  const shape = e.inputShapes[0]!;
  const groups = num(e.args, "groups");
  const grouped = e.op("Reshape", [e.x[0]!, e.ints("grouped", [0, groups, -1])]);
  const unit = [e.floats("ones", Array(groups).fill(1)), e.floats("zeros", Array(groups).fill(0))];
  const eps = float("epsilon", num(e.args, "eps"));
  const normed = e.op("InstanceNormalization", [grouped, ...unit], [eps]);
  const restored = e.args["affine"] === true ? undefined : e.y;
  const back = e.op("Reshape", [normed, e.ints("shape", [-1, ...shape])], [], restored);
  if (restored) return;
  // The weight and bias as [C, 1, ...]: one per channel, broadcast over the positions.
  const perChannel = e.ints("affine_shape", [shape[0]!, ...Array(shape.length - 1).fill(1)]);
  const scale = e.op("Reshape", [e.param("weight"), perChannel]);
  const shift = e.op("Reshape", [e.param("bias"), perChannel]);
  e.op("Add", [e.op("Mul", [back, scale]), shift], [], e.y);
}

/** SoftPlus(beta, threshold): log(1 + exp(beta·x)) / beta, x itself where beta·x > threshold. */
function softplus(e: OnnxEmitter): void {
  const [beta, threshold] = [num(e.args, "beta"), num(e.args, "threshold")];
  const x = e.x[0]!;
  const bx = beta === 1 ? x : e.op("Mul", [x, e.floats("beta", [beta], [])]);
  const sp = e.op("Softplus", [bx]);
  const scaled = beta === 1 ? sp : e.op("Div", [sp, e.floats("beta", [beta], [])]);
  const above = e.op("Greater", [bx, e.floats("threshold", [threshold], [])]);
  e.op("Where", [above, x, scaled], [], e.y);
}

/** GELU: x·Φ(x) = 0.5·x·(1 + erf(x/√2)), or PyTorch's tanh form (opset 17 has no Gelu). */
function gelu(e: OnnxEmitter): void {
  const x = e.x[0]!;
  const c = (hint: string, v: number) => e.floats(hint, [v], []);
  let inner: string;
  if (e.args["approximate"] === true) {
    const cube = e.op("Mul", [e.op("Mul", [x, x]), x]);
    const sum = e.op("Add", [x, e.op("Mul", [cube, c("k", 0.044715)])]);
    inner = e.op("Tanh", [e.op("Mul", [sum, c("sqrt_2_over_pi", Math.sqrt(2 / Math.PI))])]);
  } else inner = e.op("Erf", [e.op("Div", [x, c("sqrt2", Math.SQRT2)])]);
  // In torch.onnx.export's order, which the import recognises: ((1 + inner) · x) · 0.5.
  const scaled = e.op("Mul", [x, e.op("Add", [inner, c("one", 1)])]);
  e.op("Mul", [scaled, c("half", 0.5)], [], e.y);
}

/** PReLU: ONNX broadcasts the slope from the last dimension, so a per-channel one gets [C, 1, 1]. */
function prelu(e: OnnxEmitter): void {
  const slope = e.param("weight");
  const rank = e.inputShapes[0]!.length;
  const count = num(e.args, "num_parameters");
  const shaped =
    rank > 1 && count > 1
      ? e.op("Reshape", [slope, e.ints("slope_shape", [count, ...Array(rank - 1).fill(1)])])
      : slope;
  e.op("PRelu", [e.x[0]!, shaped], [], e.y);
}

export const onnxLayers: Readonly<Record<string, LayerExport>> = {
  SpatialConvolution: convolution("Conv"),
  SpatialFullConvolution: convolution("ConvTranspose"),
  TemporalConvolution: convolution("Conv"),
  SpatialMaxPooling: pooling("MaxPool"),
  SpatialAveragePooling: pooling("AveragePool"),
  TemporalMaxPooling: pooling("MaxPool"),
  TemporalAveragePooling: pooling("AveragePool"),
  SpatialAdaptiveMaxPooling: adaptive("Max"),
  SpatialAdaptiveAveragePooling: adaptive("Average"),
  SpatialBatchNormalization: batchNorm,
  BatchNormalization: batchNorm,
  SpatialUpSamplingNearest: (e) => {
    const s = num(e.args, "scale");
    const scales = e.floats("scales", [1, 1, s, s]);
    const attributes = [
      str("mode", "nearest"),
      str("coordinate_transformation_mode", "asymmetric"),
      str("nearest_mode", "floor"),
    ];
    e.op("Resize", [e.x[0]!, "", scales], attributes, e.y);
  },
  SpatialUpSamplingBilinear: (e) => {
    const s = num(e.args, "scale");
    const scales = e.floats("scales", [1, 1, s, s]);
    const corners = e.args["align_corners"] === true ? "align_corners" : "pytorch_half_pixel";
    const attributes = [str("mode", "linear"), str("coordinate_transformation_mode", corners)];
    e.op("Resize", [e.x[0]!, "", scales], attributes, e.y);
  },
  SpatialZeroPadding: padding("constant"),
  SpatialReflectionPadding: padding("reflect"),
  SpatialReplicationPadding: padding("edge"),
  Linear: (e) => e.op("Gemm", weightInputs(e), [int("transB", 1)], e.y),
  View: (e) => e.op("Reshape", [e.x[0]!, e.ints("shape", [-1, ...e.outputShape])], [], e.y),
  Flatten: unary("Flatten", () => [int("axis", 1)]),
  ReLU: unary("Relu"),
  LeakyReLU: unary("LeakyRelu", (a) => [float("alpha", num(a, "slope"))]),
  ELU: unary("Elu", (a) => [float("alpha", num(a, "alpha"))]),
  Sigmoid: unary("Sigmoid"),
  Tanh: unary("Tanh"),
  SoftPlus: softplus,
  ReLU6: clip(() => [0, 6]),
  HardTanh: clip((a) => [num(a, "min_val"), num(a, "max_val")]),
  SiLU: (e) => e.op("Mul", [e.x[0]!, e.op("Sigmoid", [e.x[0]!])], [], e.y),
  GELU: gelu,
  HardSigmoid: unary("HardSigmoid", () => [float("alpha", 1 / 6), float("beta", 0.5)]),
  HardSwish: unary("HardSwish"),
  // log(sigmoid(x)) = −softplus(−x), without sigmoid's underflow for very negative x.
  LogSigmoid: (e) => e.op("Neg", [e.op("Softplus", [e.op("Neg", [e.x[0]!])])], [], e.y),
  SoftSign: unary("Softsign"),
  SoftMax: unary("Softmax", () => [int("axis", 1)]),
  SoftMin: (e) => e.op("Softmax", [e.op("Neg", [e.x[0]!])], [int("axis", 1)], e.y),
  LogSoftMax: unary("LogSoftmax", () => [int("axis", 1)]),
  PReLU: prelu,
  // Inference: the identity. The ratio is kept so that an import gives the same layer back.
  Dropout: (e) => e.op("Dropout", [e.x[0]!, e.floats("ratio", [num(e.args, "p")], [])], [], e.y),
  Concat: (e) => e.op("Concat", e.x, [int("axis", 1)], e.y),
  Add: (e) => e.op(e.x.length === 2 ? "Add" : "Sum", broadcastInputs(e), [], e.y),
  Mul: (e) => e.op("Mul", broadcastInputs(e), [], e.y),
  GroupNormalization: groupNorm,
  LayerNormalization: (e) => {
    const shape = e.inputShapes[0]!;
    const [scale, shift] = affineOrIdentity(e, shape);
    const attributes = [int("axis", 1), float("epsilon", num(e.args, "eps"))];
    e.op("LayerNormalization", [e.x[0]!, scale, shift], attributes, e.y);
  },
  InstanceNormalization: (e) => {
    const [scale, shift] = affineOrIdentity(e, [e.inputShapes[0]![0]!]);
    const attributes = [float("epsilon", num(e.args, "eps"))];
    e.op("InstanceNormalization", [e.x[0]!, scale, shift], attributes, e.y);
  },
};
