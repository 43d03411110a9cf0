// Elementwise activations and the channel-wise (log-)softmax: rows of one table, shape-preserving.
import { activationRow, type Activation } from "../ops.js";
import {
  elementwiseReference,
  logSoftmaxReference,
  softmaxReference,
} from "./activations.reference.js";
import { size, type Args, type ArgSpec, type LayerDef, type Lowering } from "./types.js";

function activation(
  name: string,
  summary: string,
  aliases: string[],
  args: ArgSpec[],
  lowering: Lowering,
): LayerDef {
  return {
    name,
    summary,
    aliases,
    args,
    shapeRule: "shape unchanged",
    outputShape: (ctx) => ctx.inputs[0],
    lowering,
  };
}

/**
 * An elementwise activation: `act` makes its kernel row (ops.ts) from the layer's arguments. It
 * fuses into the layer before unless its derivative needs its input, which is then kept.
 */
function elementwise(
  name: string,
  summary: string,
  aliases: string[],
  act: (args: Args) => Activation,
  args: ArgSpec[] = [],
): LayerDef {
  const ofInput = (values: Args) => activationRow(act(values)).gradReads === "x";
  const layer = activation(name, summary, aliases, args, {
    activation: act,
    forward(c) {
      c.step("activation", [c.x[0]!], [c.y], { act: act(c.args), size: size(c.output) });
    },
    backward(c) {
      const dx = c.dx(0);
      if (!dx) return;
      const attrs = { act: act(c.args), bias: false, C: 1, S: size(c.output) };
      const v = ofInput(c.args) ? c.x[0]! : c.y;
      c.step("activation_grad", [v, c.dy], [dx.tensor], attrs, dx.accumulate);
    },
  });
  return { ...layer, reference: elementwiseReference(act) };
}

const num = (args: Args, name: string) => args[name] as number;

/** SoftMax, SoftMin (SoftMax of −x) and LogSoftMax over dimension 0 of each sample (the channels). */
function channelwise(
  name: string,
  summary: string,
  aliases: string[],
  kind: "softmax" | "softmin" | "log_softmax",
): LayerDef {
  const negate = kind === "softmin";
  const attrs = (shape: readonly number[]) => ({ C: shape[0]!, S: size(shape.slice(1)) });
  const layer = activation(name, summary, aliases, [], {
    forward(c) {
      if (kind === "log_softmax") c.step("log_softmax", [c.x[0]!], [c.y], attrs(c.output));
      else c.step("softmax", [c.x[0]!], [c.y], { ...attrs(c.output), negate });
    },
    backward(c) {
      const dx = c.dx(0);
      if (!dx) return;
      const [inputs, outputs, acc] = [[c.y, c.dy], [dx.tensor], dx.accumulate];
      if (kind === "log_softmax") c.step("log_softmax_grad", inputs, outputs, attrs(c.output), acc);
      else c.step("softmax_grad", inputs, outputs, { ...attrs(c.output), negate }, acc);
    },
  });
  const reference = kind === "log_softmax" ? logSoftmaxReference : softmaxReference(negate);
  return { ...layer, reference };
}

/**
 * HardTanh: PyTorch's Hardtanh, clamp(x, min_val, max_val), which needs min_val < max_val. The
 * ends are float32, as PyTorch's kernel on float32 tensors has them: y, stored as float32, is then
 * at an end exactly where x is at or beyond it, which its derivative reads.
 */
const hardTanhElementwise = elementwise(
  "HardTanh",
  "clamp(x, min_val, max_val): −1 below −1, 1 above 1 by default.",
  ["Hardtanh"],
  (a) => ({
    fn: "hardtanh",
    min: Math.fround(num(a, "min_val")),
    max: Math.fround(num(a, "max_val")),
  }),
  [
    { name: "min_val", type: "float", default: -1, doc: "the lower end" },
    { name: "max_val", type: "float", default: 1, doc: "the upper end, above min_val" },
  ],
);
const hardTanh: LayerDef = {
  ...hardTanhElementwise,
  outputShape(ctx) {
    const [lo, hi] = [num(ctx.args, "min_val"), num(ctx.args, "max_val")];
    if (hi <= lo)
      return ctx.error(
        "argument-range",
        { name: "max_val", value: String(hi), bound: `above min_val ${lo}` },
        "max_val",
      );
    return hardTanhElementwise.outputShape(ctx);
  },
};

export const activations: LayerDef[] = [
  elementwise("ReLU", "max(0, x).", ["relu", "Relu", "RectifiedLinear"], () => ({ fn: "relu" })),
  elementwise(
    "LeakyReLU",
    "x if x > 0, else slope·x.",
    ["LeakyRelu"],
    (a) => ({ fn: "leaky_relu", slope: num(a, "slope") }),
    [
      {
        name: "slope",
        type: "float",
        default: 0.01,
        min: 0,
        doc: "slope for negative inputs (PyTorch's negative_slope)",
      },
    ],
  ),
  elementwise(
    "ELU",
    "x if x > 0, else alpha·(exp(x) − 1).",
    ["Elu"],
    (a) => ({ fn: "elu", alpha: num(a, "alpha") }),
    [
      {
        name: "alpha",
        type: "float",
        default: 1,
        min: 0,
        doc: "saturation value for negative inputs",
      },
    ],
  ),
  elementwise("Sigmoid", "1 / (1 + exp(−x)).", ["sigmoid", "Logistic"], () => ({ fn: "sigmoid" })),
  elementwise("Tanh", "tanh(x).", ["tanh", "TanH"], () => ({ fn: "tanh" })),
  elementwise(
    "SoftPlus",
    "log(1 + exp(beta·x)) / beta; linear above the threshold.",
    ["Softplus"],
    (a) => ({ fn: "softplus", beta: num(a, "beta"), threshold: num(a, "threshold") }),
    [
      { name: "beta", type: "float", default: 1, min: 0, doc: "sharpness" },
      {
        name: "threshold",
        type: "float",
        default: 20,
        doc: "above beta·x > threshold the output is x",
      },
    ],
  ),
  elementwise(
    "ReLU6",
    "min(max(0, x), 6): HardTanh from 0 to 6 (MobileNet's activation).",
    ["Relu6"],
    () => ({ fn: "hardtanh", min: 0, max: 6 }),
  ),
  hardTanh,
  elementwise("SiLU", "x · sigmoid(x) (swish).", ["Silu", "Swish"], () => ({ fn: "silu" })),
  elementwise(
    "GELU",
    "x · Φ(x), Φ the standard normal's distribution function; with approximate=true PyTorch's tanh form.",
    ["Gelu"],
    (a) => ({ fn: "gelu", tanh: a["approximate"] === true }),
    [
      {
        name: "approximate",
        type: "bool",
        default: false,
        doc: "0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), PyTorch's approximate='tanh'",
      },
    ],
  ),
  elementwise(
    "HardSigmoid",
    "min(max(x + 3, 0), 6) / 6: 0 below −3, 1 above 3, linear between.",
    ["Hardsigmoid"],
    () => ({ fn: "hardsigmoid" }),
  ),
  elementwise(
    "HardSwish",
    "x · min(max(x + 3, 0), 6) / 6 (MobileNetV3's activation).",
    ["Hardswish"],
    () => ({ fn: "hardswish" }),
  ),
  elementwise(
    "LogSigmoid",
    "log(sigmoid(x)) = −SoftPlus(−x), computed stably.",
    ["Logsigmoid"],
    () => ({ fn: "logsigmoid" }),
  ),
  elementwise("SoftSign", "x / (1 + |x|).", ["Softsign"], () => ({ fn: "softsign" })),
  channelwise(
    "SoftMax",
    "exp(x) normalised over the channel dimension (dimension 1 of [N, C, ...]).",
    ["Softmax", "softmax"],
    "softmax",
  ),
  channelwise(
    "SoftMin",
    "SoftMax(−x) over the channel dimension: the smallest input gets the largest weight.",
    ["Softmin", "softmin"],
    "softmin",
  ),
  channelwise(
    "LogSoftMax",
    "log(SoftMax(x)) over the channel dimension, computed stably.",
    ["LogSoftmax", "log_softmax"],
    "log_softmax",
  ),
];
