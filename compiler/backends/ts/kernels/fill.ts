// Zeroes a tensor: the gradient of a parameter the loss does not depend on.
import type { KernelEmitter } from "./kernel.js";

export const zero: KernelEmitter<"zero"> = ({ outs, a }) =>
  `for (let i = 0; i < ${a.perSample ? "N * " : ""}${a.size}; i++) f[${outs[0]} + i] = 0;`;
