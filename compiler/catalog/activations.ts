// Elementwise activations and the channel-wise (log-)softmax: rows of one table, shape-preserving.
import { activationCode } from "../kernels/activations.js";
import {
  elementwiseReference,
  logSoftmaxReference,
  scalars,
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

/** An elementwise activation: the `act` of the activation kernels, fusable into the layer before. */
function elementwise(
  name: string,
  summary: string,
  aliases: string[],
  act: string,
  args: ArgSpec[] = [],
): LayerDef {
  const epilogue = (values: Args) => ({
    act,
    actParams: args.map((a) => values[a.name]).join(","),
  });
  // An activation whose derivative needs its input keeps it: it is not fused.
  const ofInput = activationCode[act]!.gradOfInput === true;
  const layer = activation(name, summary, aliases, args, {
    ...(ofInput ? {} : { epilogue }),
    forward(c) {
      c.step("activation", [c.x[0]!], [c.y], { ...epilogue(c.args), size: size(c.output) });
    },
    backward(c) {
      const dx = c.dx(0);
      if (!dx) return;
      const attrs = { ...epilogue(c.args), bias: false, C: 1, S: size(c.output) };
      c.step("activation_grad", [ofInput ? c.x[0]! : c.y, c.dy], [dx.tensor], attrs, dx.accumulate);
    },
  });
  return { ...layer, reference: elementwiseReference(scalars[act]!) };
}

/** SoftMax / LogSoftMax over dimension 0 of each sample (the channels). */
function channelwise(name: string, summary: string, aliases: string[], kernel: string): LayerDef {
  const attrs = (shape: readonly number[]) => ({ C: shape[0]!, S: size(shape.slice(1)) });
  const layer = activation(name, summary, aliases, [], {
    forward(c) {
      c.step(kernel, [c.x[0]!], [c.y], attrs(c.output));
    },
    backward(c) {
      const dx = c.dx(0);
      if (dx) c.step(`${kernel}_grad`, [c.y, c.dy], [dx.tensor], attrs(c.output), dx.accumulate);
    },
  });
  return { ...layer, reference: kernel === "softmax" ? softmaxReference : logSoftmaxReference };
}

export const activations: LayerDef[] = [
  elementwise("ReLU", "max(0, x).", ["relu", "Relu", "RectifiedLinear"], "relu"),
  elementwise("LeakyReLU", "x if x > 0, else slope·x.", ["LeakyRelu"], "leaky_relu", [
    {
      name: "slope",
      type: "float",
      default: 0.01,
      min: 0,
      doc: "slope for negative inputs (PyTorch's negative_slope)",
    },
  ]),
  elementwise("ELU", "x if x > 0, else alpha·(exp(x) − 1).", ["Elu"], "elu", [
    {
      name: "alpha",
      type: "float",
      default: 1,
      min: 0,
      doc: "saturation value for negative inputs",
    },
  ]),
  elementwise("Sigmoid", "1 / (1 + exp(−x)).", ["sigmoid", "Logistic"], "sigmoid"),
  elementwise("Tanh", "tanh(x).", ["tanh", "TanH"], "tanh"),
  elementwise(
    "SoftPlus",
    "log(1 + exp(beta·x)) / beta; linear above the threshold.",
    ["Softplus"],
    "softplus",
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
