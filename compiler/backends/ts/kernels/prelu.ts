// PReLU as JavaScript: y = x if x > 0, else w·x, one weight per channel or one shared; its
// input and weight gradients in one pass.
import type { PReLU } from "../../../ops.js";
import { assign, type KernelEmitter } from "./kernel.js";

/** Over (n, c) with `w` the channel's weight and `i` over its S positions: `body` per position. */
const perPosition = (a: PReLU, w: string, body: string[], after: string[] = []): string =>
  [
    `for (let n = 0; n < N; n++) for (let c = 0; c < ${a.C}; c++) {`,
    `  const w = f[${w}${a.shared ? "" : " + c"}];`,
    ...(after.length > 0 ? ["  let s = 0;"] : []),
    `  for (let i = (n * ${a.C} + c) * ${a.S}, e = i + ${a.S}; i < e; i++) {`,
    ...body.map((line) => `    ${line}`),
    `  }`,
    ...after.map((line) => `  ${line}`),
    `}`,
  ].join("\n");

export const prelu: KernelEmitter<"prelu"> = ({ ins, outs, a }) =>
  perPosition(a, ins[1]!, [`const v = f[${ins[0]} + i]; f[${outs[0]} + i] = v > 0 ? v : w * v;`]);

/**
 * dx (+)= x > 0 ? dy : w·dy; dw = Σ over the batch and positions of x > 0 ? 0 : x·dy (s sums
 * one channel's); either left out when not needed.
 */
export const preluGrad: KernelEmitter<"prelu_grad"> = ({ ins, outs, a, acc }) => {
  const [x, w, dy] = ins;
  const [dx, dw] = outs;
  const body = [`const v = f[${x} + i], g = f[${dy} + i];`];
  if (dx) body.push(`f[${dx} + i] ${assign(acc)} v > 0 ? g : w * g;`);
  if (dw) body.push(`s += v > 0 ? 0 : v * g;`);
  const after = dw ? [`f[${dw}${a.shared ? "" : " + c"}] += s;`] : [];
  const zero = dw ? `for (let c = 0; c < ${a.shared ? 1 : a.C}; c++) f[${dw} + c] = 0;\n` : "";
  return zero + perPosition(a, w!, body, after);
};
