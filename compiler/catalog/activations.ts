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

/** SoftMax / LogSoftMax over dimension 0 of each sample (the channels). */
function channelwise(
  name: string,
  summary: string,
  aliases: string[],
  kernel: "softmax" | "log_softmax",
): LayerDef {
  const attrs = (shape: readonly number[]) => ({ C: shape[0]!, S: size(shape.slice(1)) });
  const grad = kernel === "softmax" ? "softmax_grad" : "log_softmax_grad";
  const layer = activation(name, summary, aliases, [], {
    forward(c) {
      c.step(kernel, [c.x[0]!], [c.y], attrs(c.output));
    },
    backward(c) {
      const dx = c.dx(0);
      if (dx) c.step(grad, [c.y, c.dy], [dx.tensor], attrs(c.output), dx.accumulate);
    },
  });
  return { ...layer, reference: kernel === "softmax" ? softmaxReference : logSoftmaxReference };
}

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
  channelwise(
    "SoftMax",
    "exp(x) normalised over the channel dimension (dimension 1 of [N, C, ...]).",
    ["Softmax", "softmax"],
    "softmax",
  ),
  channelwise(
    "LogSoftMax",
    "log(SoftMax(x)) over the channel dimension, computed stably.",
    ["LogSoftmax", "log_softmax"],
    "log_softmax",
  ),
];
