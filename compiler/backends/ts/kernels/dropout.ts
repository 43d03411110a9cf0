// Dropout: masks drawn per element from the training pass's seed (runtime/dropout.ts), and the gradient.
import { dropoutThreshold } from "../../../../runtime/dropout.js";
import type { KernelEmitter } from "./kernel.js";

/**
 * y = x · mask while training, mask 0 where the element's draw is below p's threshold and
 * 1/(1 − p) elsewhere; y = x in evaluation.
 */
export const dropout: KernelEmitter<"dropout"> = ({ ins, outs, a }) => {
  const { size, p, salt } = a;
  return `if (training) { const key = dropout.key(${salt});
  for (let i = 0; i < N * ${size}; i++) { const m = dropout.draw(key, i) < ${dropoutThreshold(p)} ? 0 : ${1 / (1 - p)}; f[${outs[1]} + i] = m; f[${outs[0]} + i] = f[${ins[0]} + i] * m; } }
else f.copyWithin(${outs[0]}, ${ins[0]}, ${ins[0]} + N * ${size});`;
};

export const dropoutGrad: KernelEmitter<"dropout_grad"> = ({ ins, outs, a, acc }) =>
  `for (let i = 0; i < N * ${a.size}; i++) f[${outs[0]} + i] ${acc ? "+=" : "="} f[${ins[1]} + i] * f[${ins[0]} + i];`;
