// Elementwise activations: forward expressions and derivatives written in terms of the output y.
import { assign, num, type KernelEmitter } from "./kernel.js";

/** JS expressions of one activation: `fwd` of x, `grad` (dy/dx) of the output y (or the input x). */
interface ActivationCode {
  fwd: (x: string, p: number[]) => string;
  grad: (v: string, p: number[]) => string;
  /** The derivative needs the input: such an activation is not fused (the input is kept). */
  gradOfInput?: boolean;
}

// The derivative is written in y so the input need not be kept for the backward pass.
export const activationCode: Record<string, ActivationCode> = {
  relu: { fwd: (x) => `(${x} > 0 ? ${x} : 0)`, grad: (y) => `(${y} > 0 ? 1 : 0)` },
  leaky_relu: {
    fwd: (x, [s]) => `(${x} > 0 ? ${x} : ${s} * ${x})`,
    grad: (y, [s]) => `(${y} > 0 ? 1 : ${s})`,
  },
  elu: {
    fwd: (x, [a]) => `(${x} > 0 ? ${x} : ${a} * (Math.exp(${x}) - 1))`,
    grad: (y, [a]) => `(${y} > 0 ? 1 : ${y} + ${a})`,
  },
  sigmoid: { fwd: (x) => `1 / (1 + Math.exp(-${x}))`, grad: (y) => `${y} * (1 - ${y})` },
  tanh: { fwd: (x) => `Math.tanh(${x})`, grad: (y) => `(1 - ${y} * ${y})` },
  // PyTorch's Softplus: x itself above the threshold; its slope there is 1. Which side of the
  // threshold a value came from cannot be told from y alone, so the gradient reads x.
  softplus: {
    fwd: (x, [b, t]) => `(${b} * ${x} > ${t} ? ${x} : Math.log1p(Math.exp(${b} * ${x})) / ${b})`,
    grad: (x, [b, t]) => `(${b} * ${x} > ${t} ? 1 : 1 / (1 + Math.exp(-${b} * ${x})))`,
    gradOfInput: true,
  },
};

export const activationParams = (a: Record<string, unknown>): number[] =>
  String(a["actParams"] ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map(Number);

/** y = act(x), elementwise over N · size. */
export const activation: KernelEmitter = ({ ins, outs, a }) => {
  const code = activationCode[a["act"] as string]!;
  return `for (let i = 0; i < N * ${num(a, "size")}; i++) { const v = f[${ins[0]} + i]; f[${outs[0]} + i] = ${code.fwd("v", activationParams(a))}; }`;
};

/**
 * dx = dy · act'(y) (dx may be dy itself, in place), and with `bias` also the bias gradient:
 * the first input is y, or x for an activation whose derivative needs it;
 * the sum of dx over the batch and the C channels' S spatial positions — one pass for both.
 */
export const activationGrad: KernelEmitter = ({ ins, outs, a, acc }) => {
  const act = a["act"] as string;
  const C = num(a, "C");
  const S = num(a, "S");
  const grad = act ? activationCode[act]!.grad(`f[${ins[0]} + i]`, activationParams(a)) : "1";
  const dx = act ? outs[0] : undefined;
  const db = a["bias"] ? outs[act ? 1 : 0] : undefined;
  const lines = [];
  if (db) lines.push(`for (let c = 0; c < ${C}; c++) f[${db} + c] = 0;`);
  lines.push(`for (let n = 0; n < N; n++) for (let c = 0; c < ${C}; c++) {`);
  if (db) lines.push(`  let s = 0;`);
  lines.push(`  for (let i = (n * ${C} + c) * ${S}, e = i + ${S}; i < e; i++) {`);
  lines.push(`    const g = f[${ins[1]} + i] * ${grad};`);
  if (dx) lines.push(`    f[${dx} + i] ${assign(acc)} g;`);
  if (db) lines.push(`    s += g;`);
  lines.push(`  }`);
  if (db) lines.push(`  f[${db} + c] += s;`);
  lines.push(`}`);
  return lines.join("\n");
};
