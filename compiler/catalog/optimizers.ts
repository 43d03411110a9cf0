// Optimizers a `train` block may name, with their signatures (PyTorch's defaults).
import type { ArgSpec } from "./types.js";

export interface OptimizerDef {
  name: "SGD" | "Adam";
  summary: string;
  args: ArgSpec[];
}

const lr = (def?: number): ArgSpec => ({
  name: "lr",
  type: "float",
  min: 0,
  doc: "learning rate",
  ...(def === undefined ? {} : { default: def }),
});
const weightDecay: ArgSpec = {
  name: "weight_decay",
  type: "float",
  default: 0,
  min: 0,
  doc: "L2 penalty added to the gradient",
};

export const optimizers: OptimizerDef[] = [
  {
    name: "SGD",
    summary: "Stochastic gradient descent with optional (Nesterov) momentum.",
    args: [
      lr(),
      { name: "momentum", type: "float", default: 0, min: 0, doc: "momentum factor" },
      weightDecay,
      { name: "nesterov", type: "bool", default: false, doc: "Nesterov momentum" },
    ],
  },
  {
    name: "Adam",
    summary: "Adam: adaptive moment estimation.",
    args: [
      lr(0.001),
      {
        name: "betas",
        type: "floats",
        default: [0.9, 0.999],
        min: 0,
        below: 1,
        doc: "decay rates of the moment estimates",
      },
      { name: "eps", type: "float", default: 1e-8, min: 0, doc: "added to the denominator" },
      weightDecay,
    ],
  },
];
