// Elementwise activations and the channel-wise (log-)softmax: rows of one table, shape-preserving.
import type { ArgSpec, LayerDef } from "./types.js";

function activation(
  name: string,
  summary: string,
  aliases: string[],
  args: ArgSpec[] = [],
): LayerDef {
  return {
    name,
    summary,
    aliases,
    args,
    shapeRule: "shape unchanged",
    outputShape: (ctx) => ctx.inputs[0],
  };
}

export const activations: LayerDef[] = [
  activation("ReLU", "max(0, x).", ["relu", "Relu", "RectifiedLinear"]),
  activation(
    "LeakyReLU",
    "x if x > 0, else slope·x.",
    ["LeakyRelu"],
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
  activation(
    "ELU",
    "x if x > 0, else alpha·(exp(x) − 1).",
    ["Elu"],
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
  activation("Sigmoid", "1 / (1 + exp(−x)).", ["sigmoid", "Logistic"]),
  activation("Tanh", "tanh(x).", ["tanh", "TanH"]),
  activation(
    "SoftPlus",
    "log(1 + exp(beta·x)) / beta; linear above the threshold.",
    ["Softplus"],
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
  activation(
    "SoftMax",
    "exp(x) normalised over the channel dimension (dimension 1 of [N, C, ...]).",
    ["Softmax", "softmax"],
  ),
  activation("LogSoftMax", "log(SoftMax(x)) over the channel dimension, computed stably.", [
    "LogSoftmax",
    "log_softmax",
  ]),
];
