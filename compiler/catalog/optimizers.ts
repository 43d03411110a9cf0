// Optimizers a `train` block may name, with their signatures (PyTorch's defaults).
import { optimizerDefaults } from "../../runtime/optimizers.js";
import type { ArgSpec } from "./types.js";

export interface OptimizerDef {
  name: "SGD" | "Adam";
  summary: string;
  args: ArgSpec[];
}

const [SGD, Adam] = [optimizerDefaults.SGD, optimizerDefaults.Adam];

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
  default: SGD.weight_decay,
  min: 0,
  doc: "L2 penalty added to the gradient",
};

export const optimizers: OptimizerDef[] = [
  {
    name: "SGD",
    summary: "Stochastic gradient descent with optional (Nesterov) momentum.",
    args: [
      lr(),
      { name: "momentum", type: "float", default: SGD.momentum, min: 0, doc: "momentum factor" },
      weightDecay,
      { name: "nesterov", type: "bool", default: SGD.nesterov, doc: "Nesterov momentum" },
    ],
  },
  {
    name: "Adam",
    summary: "Adam: adaptive moment estimation.",
    args: [
      lr(Adam.lr),
      {
        name: "betas",
        type: "floats",
        default: Adam.betas,
        min: 0,
        below: 1,
        doc: "decay rates of the moment estimates",
      },
      { name: "eps", type: "float", default: Adam.eps, min: 0, doc: "added to the denominator" },
      { ...weightDecay, default: Adam.weight_decay },
    ],
  },
];
