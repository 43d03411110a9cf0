// Optimizers a `train` block may name, with their signatures (PyTorch's defaults).
import type { OptimizerName } from "../../runtime/api-types.js";
import { optimizerDefaults } from "../../runtime/optimizers.js";
import type { ArgSpec } from "./types.js";

export interface OptimizerDef {
  name: OptimizerName;
  summary: string;
  args: ArgSpec[];
}

const { SGD, Adam, AdamW, RMSprop, Adagrad } = optimizerDefaults;

const lr = (def?: number): ArgSpec => ({
  name: "lr",
  type: "float",
  min: 0,
  doc: "learning rate",
  ...(def === undefined ? {} : { default: def }),
});
const weightDecay = (def: number): ArgSpec => ({
  name: "weight_decay",
  type: "float",
  default: def,
  min: 0,
  doc: "L2 penalty added to the gradient",
});
const eps = (def: number): ArgSpec => ({
  name: "eps",
  type: "float",
  default: def,
  min: 0,
  doc: "added to the denominator",
});
const betas = (def: readonly number[]): ArgSpec => ({
  name: "betas",
  type: "floats",
  default: def,
  min: 0,
  below: 1,
  doc: "decay rates of the moment estimates",
});

export const optimizers: OptimizerDef[] = [
  {
    name: "SGD",
    summary: "Stochastic gradient descent with optional (Nesterov) momentum.",
    args: [
      lr(),
      { name: "momentum", type: "float", default: SGD.momentum, min: 0, doc: "momentum factor" },
      weightDecay(SGD.weight_decay),
      { name: "nesterov", type: "bool", default: SGD.nesterov, doc: "Nesterov momentum" },
    ],
  },
  {
    name: "Adam",
    summary: "Adam: adaptive moment estimation.",
    args: [lr(Adam.lr), betas(Adam.betas), eps(Adam.eps), weightDecay(Adam.weight_decay)],
  },
  {
    name: "AdamW",
    summary:
      "Adam with decoupled weight decay: the parameters shrink by lr·weight_decay at each step, apart from the gradient.",
    args: [
      lr(AdamW.lr),
      betas(AdamW.betas),
      eps(AdamW.eps),
      {
        ...weightDecay(AdamW.weight_decay),
        doc: "decay of the parameters, applied apart from the gradient",
      },
    ],
  },
  {
    name: "RMSprop",
    summary:
      "RMSprop: the gradient divided by a running root mean square of its recent values (Keras and PyTorch spell it RMSprop).",
    args: [
      lr(RMSprop.lr),
      {
        name: "alpha",
        type: "float",
        default: RMSprop.alpha,
        min: 0,
        doc: "smoothing constant of the squared gradients' average",
      },
      eps(RMSprop.eps),
      weightDecay(RMSprop.weight_decay),
      {
        name: "momentum",
        type: "float",
        default: RMSprop.momentum,
        min: 0,
        doc: "momentum factor",
      },
      {
        name: "centered",
        type: "bool",
        default: RMSprop.centered,
        doc: "divide by the gradient's estimated variance instead of its mean square",
      },
    ],
  },
  {
    name: "Adagrad",
    summary: "Adagrad: each parameter's rate divided by the root of its summed squared gradients.",
    args: [
      lr(Adagrad.lr),
      {
        name: "lr_decay",
        type: "float",
        default: Adagrad.lr_decay,
        min: 0,
        doc: "the rate of step t is lr / (1 + (t − 1)·lr_decay)",
      },
      weightDecay(Adagrad.weight_decay),
      {
        name: "initial_accumulator_value",
        type: "float",
        default: Adagrad.initial_accumulator_value,
        min: 0,
        doc: "the starting value of the sums",
      },
      eps(Adagrad.eps),
    ],
  },
];
