// Criteria: each a mean over the first `count` samples (PyTorch's default), times its weight.
import type { LossAttrs } from "../../../ops.js";
import { assign, type KernelEmitter } from "./kernel.js";

/** Loss kernels add into the loss scalar; the first criterion term overwrites it. */
const store = (loss: string, acc: boolean, value: string) => `f[${loss}] ${assign(acc)} ${value};`;

/** Σ over valid samples and positions of `term`, with `t` the class index at (n, s). */
function classLoss(
  ins: string[],
  outs: string[],
  a: LossAttrs,
  acc: boolean,
  term: string,
): string {
  const { C, S } = a;
  return `{ let total = 0;
for (let n = 0; n < count; n++) for (let s = 0; s < ${S}; s++) {
  const o = n * ${C * S} + s, t = iv[${ins[1]} + n * ${S} + s];
  ${term}
}
${store(outs[0]!, acc, `${a.weight} * total / (count * ${S})`)} }`;
}

/** NLL of log-probabilities: −x[target]. */
export const nll: KernelEmitter<"nll"> = ({ ins, outs, a, acc }) =>
  classLoss(ins, outs, a, acc, `total -= f[${ins[0]} + o + t * ${a.S}];`);

/** CrossEntropy of raw scores: logsumexp − x[target], computed stably. */
export const crossEntropy: KernelEmitter<"cross_entropy"> = ({ ins, outs, a, acc }) => {
  const { C, S } = a;
  return classLoss(
    ins,
    outs,
    a,
    acc,
    `let m = -Infinity;
  for (let c = 0; c < ${C}; c++) { const v = f[${ins[0]} + o + c * ${S}]; if (v > m) m = v; }
  let z = 0;
  for (let c = 0; c < ${C}; c++) z += Math.exp(f[${ins[0]} + o + c * ${S}] - m);
  total += m + Math.log(z) - f[${ins[0]} + o + t * ${S}];`,
  );
};

/**
 * The gradient of a class criterion with respect to its input, written straight from the
 * target: NLL's −1 at the target; LogSoftMax+NLL fused and CrossEntropy: softmax − one-hot.
 * Samples past `count` get zero.
 */
export const classLossGrad: KernelEmitter<"class_loss_grad"> = ({ ins, outs, a, acc }) => {
  const { C, S } = a;
  const { mode } = a;
  const scale = `${a.weight} / (count * ${S})`;
  const [x, t] = ins;
  const dx = outs[0];
  const xc = `f[${x} + o + c * ${S}]`;
  // No closures in the loop: the step must not allocate.
  const stats =
    mode === "cross_entropy"
      ? `let m = -Infinity;
  for (let c = 0; c < ${C}; c++) { const v = ${xc}; if (v > m) m = v; }
  let z = 0;
  for (let c = 0; c < ${C}; c++) z += Math.exp(${xc} - m);`
      : "";
  const prob = mode === "cross_entropy" ? `Math.exp(${xc} - m) / z` : `Math.exp(${xc})`;
  const value = mode === "nll" ? `(c === t ? -k : 0)` : `k * (${prob} - (c === t ? 1 : 0))`;
  return `{ const k = ${scale};
for (let n = 0; n < N; n++) for (let s = 0; s < ${S}; s++) {
  const o = n * ${C * S} + s, t = iv[${t} + n * ${S} + s];
  if (n >= count) { ${acc ? "" : `for (let c = 0; c < ${C}; c++) f[${dx} + o + c * ${S}] = 0;`} continue; }
  ${stats}
  for (let c = 0; c < ${C}; c++) f[${dx} + o + c * ${S}] ${assign(acc)} ${value};
} }`;
};

/** Mean squared error against a target of the same shape. */
export const mse: KernelEmitter<"mse"> = ({ ins, outs, a, acc }) => {
  const { P } = a;
  return `{ let total = 0;
for (let i = 0; i < count * ${P}; i++) { const d = f[${ins[0]} + i] - f[${ins[1]} + i]; total += d * d; }
${store(outs[0]!, acc, `${a.weight} * total / (count * ${P})`)} }`;
};

export const mseGrad: KernelEmitter<"mse_grad"> = ({ ins, outs, a, acc }) => {
  const { P } = a;
  return `{ const k = 2 * ${a.weight} / (count * ${P});
for (let i = 0; i < N * ${P}; i++) f[${outs[0]} + i] ${assign(acc)} i < count * ${P} ? k * (f[${ins[0]} + i] - f[${ins[1]} + i]) : 0; }`;
};

/** Binary cross-entropy of probabilities; logs clamped at −100 as PyTorch does. */
export const bce: KernelEmitter<"bce"> = ({ ins, outs, a, acc }) => {
  const { P } = a;
  return `{ let total = 0;
for (let i = 0; i < count * ${P}; i++) {
  const p = f[${ins[0]} + i], t = f[${ins[1]} + i];
  total -= t * Math.max(Math.log(p), -100) + (1 - t) * Math.max(Math.log(1 - p), -100);
}
${store(outs[0]!, acc, `${a.weight} * total / (count * ${P})`)} }`;
};

/** PyTorch's BCE gradient: (p − t) / max(p·(1 − p), 1e-12). */
export const bceGrad: KernelEmitter<"bce_grad"> = ({ ins, outs, a, acc }) => {
  const { P } = a;
  return `{ const k = ${a.weight} / (count * ${P});
for (let i = 0; i < N * ${P}; i++) {
  const p = f[${ins[0]} + i];
  f[${outs[0]} + i] ${assign(acc)} i < count * ${P} ? k * (p - f[${ins[1]} + i]) / Math.max(p * (1 - p), 1e-12) : 0;
} }`;
};
