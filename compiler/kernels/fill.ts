// Zeroes a tensor: the gradient of a parameter the loss does not depend on.
import { num, type KernelEmitter } from "./kernel.js";

export const zero: KernelEmitter = ({ outs, a }) =>
  `for (let i = 0; i < ${a["perSample"] ? "N * " : ""}${num(a, "size")}; i++) f[${outs[0]} + i] = 0;`;
