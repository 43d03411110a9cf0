// Every catalog layer as PyTorch code: the module that holds its parameters (under the same
// names and layouts as netc's) and the forward expression. A table of the export, keyed by layer
// name; test/export-torch.test.ts fails for a catalog layer it lacks.
import { pair, type Args, type Shape } from "../catalog/types.js";
import { py } from "./python.js";

/** What the export knows of one use of a layer. */
export interface LayerUse {
  args: Args;
  inputs: readonly Shape[];
  output: Shape;
}

export interface TorchLayer {
  /** The constructor of the module that holds the layer's parameters (layers with parameters). */
  module?(use: LayerUse): string;
  /**
   * The forward expression, from the expressions of its inputs `x` and of its module `m` (the
   * empty string for a layer without a module).
   */
  call(use: LayerUse, x: readonly string[], m: string): string;
}

const size2 = (v: Args[string]): string => py(pair(v));
const num = (use: LayerUse, name: string) => use.args[name] as number;
const flag = (use: LayerUse, name: string) => use.args[name] === true;

/** A function of the input alone: `F.relu(x)`. */
const fn = (name: string, extra: (use: LayerUse) => string = () => ""): TorchLayer => ({
  call: (use, [x]) => `${name}(${x}${extra(use)})`,
});
const applyModule: TorchLayer["call"] = (_use, [x], m) => `${m}(${x})`;

/** Batch normalisation: `BatchNorm` of the exported file (F.batch_norm, without a step counter). */
const batchNorm: TorchLayer = {
  module: (use) =>
    `BatchNorm(${use.inputs[0]![0]}, eps=${py(num(use, "eps"))}, momentum=${py(num(use, "momentum"))}, affine=${py(flag(use, "affine"))})`,
  call: applyModule,
};

const pooling = (name: "max_pool2d" | "avg_pool2d"): TorchLayer => ({
  call: (use, [x]) =>
    `F.${name}(${x}, ${size2(use.args["kernel"])}, stride=${size2(use.args["stride"])}, padding=${size2(use.args["pad"])}, ceil_mode=${py(flag(use, "ceil"))}` +
    (name === "avg_pool2d"
      ? `, count_include_pad=${py(use.args["count_include_pad"] !== false)})`
      : ")"),
});

const adaptive = (name: string): TorchLayer =>
  fn(name, (use) => `, ${py([num(use, "h"), num(use, "w")])}`);

/** F.pad's (left, right, top, bottom), as netc's padding layers order them. */
const padding = (mode: string): TorchLayer =>
  fn(
    "F.pad",
    (use) =>
      `, ${py(["left", "right", "top", "bottom"].map((k) => num(use, k)))}${mode ? `, mode=${py(mode)}` : ""}`,
  );

/**
 * The inputs of a broadcasting join, each of fewer dimensions than the output given the missing
 * ones after the batch: PyTorch aligns from the last dimension, the batch included.
 */
const broadcastInputs = (use: LayerUse, x: readonly string[]): string[] =>
  x.map((value, i) => {
    const shape = use.inputs[i]!;
    const missing = use.output.length - shape.length;
    if (missing === 0) return value;
    const dims = [...Array<number>(missing).fill(1), ...shape];
    return `${value}.reshape(${[`${value}.shape[0]`, ...dims].join(", ")})`;
  });

/** SoftMax and its kin over the channels: dimension 1 of [N, C, ...]. */
const overChannels = (name: string) => fn(name, () => ", 1");

export const torchLayers: Readonly<Record<string, TorchLayer>> = {
  SpatialConvolution: {
    module: (use) =>
      `nn.Conv2d(${use.inputs[0]![0]}, ${num(use, "out")}, ${size2(use.args["kernel"])}, stride=${size2(use.args["stride"])}, padding=${size2(use.args["pad"])}, bias=${py(flag(use, "bias"))})`,
    call: applyModule,
  },
  SpatialFullConvolution: {
    module: (use) =>
      `nn.ConvTranspose2d(${use.inputs[0]![0]}, ${num(use, "out")}, ${size2(use.args["kernel"])}, stride=${size2(use.args["stride"])}, padding=${size2(use.args["pad"])}, output_padding=${size2(use.args["adj"])}, bias=${py(flag(use, "bias"))})`,
    call: applyModule,
  },
  SpatialMaxPooling: pooling("max_pool2d"),
  SpatialAveragePooling: pooling("avg_pool2d"),
  SpatialAdaptiveMaxPooling: adaptive("F.adaptive_max_pool2d"),
  SpatialAdaptiveAveragePooling: adaptive("F.adaptive_avg_pool2d"),
  SpatialBatchNormalization: batchNorm,
  SpatialUpSamplingNearest: fn("F.interpolate", (use) => `, scale_factor=${num(use, "scale")}`),
  SpatialUpSamplingBilinear: fn(
    "F.interpolate",
    (use) =>
      `, scale_factor=${num(use, "scale")}, mode="bilinear", align_corners=${py(flag(use, "align_corners"))}`,
  ),
  SpatialZeroPadding: padding(""),
  SpatialReflectionPadding: padding("reflect"),
  SpatialReplicationPadding: padding("replicate"),
  Linear: {
    module: (use) =>
      `nn.Linear(${use.inputs[0]![0]}, ${num(use, "out")}, bias=${py(flag(use, "bias"))})`,
    call: applyModule,
  },
  BatchNormalization: batchNorm,
  View: { call: (use, [x]) => `${x}.reshape(${[`${x}.shape[0]`, ...use.output].join(", ")})` },
  Flatten: fn("torch.flatten", () => ", 1"),
  ReLU: fn("F.relu"),
  LeakyReLU: fn("F.leaky_relu", (use) => `, ${py(num(use, "slope"))}`),
  ELU: fn("F.elu", (use) => `, ${py(num(use, "alpha"))}`),
  Sigmoid: fn("torch.sigmoid"),
  Tanh: fn("torch.tanh"),
  SoftPlus: fn("F.softplus", (use) => `, ${py(num(use, "beta"))}, ${py(num(use, "threshold"))}`),
  ReLU6: fn("F.relu6"),
  HardTanh: fn("F.hardtanh", (use) => `, ${py(num(use, "min_val"))}, ${py(num(use, "max_val"))}`),
  SiLU: fn("F.silu"),
  GELU: fn("F.gelu", (use) => (flag(use, "approximate") ? `, approximate="tanh"` : "")),
  HardSigmoid: fn("F.hardsigmoid"),
  HardSwish: fn("F.hardswish"),
  LogSigmoid: fn("F.logsigmoid"),
  SoftSign: fn("F.softsign"),
  SoftMax: overChannels("F.softmax"),
  SoftMin: overChannels("F.softmin"),
  LogSoftMax: overChannels("F.log_softmax"),
  PReLU: {
    module: (use) => `nn.PReLU(${num(use, "num_parameters")}, init=${py(num(use, "init"))})`,
    call: applyModule,
  },
  Dropout: fn("F.dropout", (use) => `, ${py(num(use, "p"))}, self.training`),
  Concat: { call: (_use, x) => `torch.cat([${x.join(", ")}], 1)` },
  Add: { call: (use, x) => broadcastInputs(use, x).join(" + ") },
  Mul: { call: (use, x) => broadcastInputs(use, x).join(" * ") },
  GroupNormalization: {
    module: (use) =>
      `nn.GroupNorm(${num(use, "groups")}, ${use.inputs[0]![0]}, eps=${py(num(use, "eps"))}, affine=${py(flag(use, "affine"))})`,
    call: applyModule,
  },
  LayerNormalization: {
    module: (use) =>
      `nn.LayerNorm(${py([...use.inputs[0]!])}, eps=${py(num(use, "eps"))}, elementwise_affine=${py(flag(use, "affine"))})`,
    call: applyModule,
  },
  // PyTorch's default track_running_stats=False: batch statistics in evaluation too, as netc.
  InstanceNormalization: {
    module: (use) =>
      `nn.InstanceNorm${use.inputs[0]!.length === 3 ? "2d" : "1d"}(${use.inputs[0]![0]}, eps=${py(num(use, "eps"))}, affine=${py(flag(use, "affine"))})`,
    call: applyModule,
  },
};
