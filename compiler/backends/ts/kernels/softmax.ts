// SoftMax (SoftMin is its negation) and LogSoftMax over the channel dimension of [N, C, S...], and
// their gradients.
import { assign, type KernelEmitter } from "./kernel.js";

/** Loops over (n, s) with `o` the offset of channel 0 and `S` the stride between channels. */
function perPosition(C: number, S: number, body: string): string {
  return `for (let n = 0; n < N; n++) for (let s = 0; s < ${S}; s++) {
  const o = n * ${C * S} + s;
  ${body}
}`;
}

/** x at channel c of the position, negated for SoftMin. */
const read =
  (x: string, S: number, negate = false) =>
  (c: string) =>
    `${negate ? "-" : ""}f[${x} + o + ${c} * ${S}]`;

const maxAndSum = (x: (c: string) => string, C: number) => `let m = -Infinity;
  for (let c = 0; c < ${C}; c++) { const v = ${x("c")}; if (v > m) m = v; }
  let z = 0;
  for (let c = 0; c < ${C}; c++) z += Math.exp(${x("c")} - m);`;

/** softmax(x), or softmin(x) = softmax(−x). */
export const softmax: KernelEmitter<"softmax"> = ({ ins, outs, a }) => {
  const { C, S } = a;
  const x = read(ins[0]!, S, a.negate);
  return perPosition(
    C,
    S,
    `${maxAndSum(x, C)}
  for (let c = 0; c < ${C}; c++) f[${outs[0]} + o + c * ${S}] = Math.exp(${x("c")} - m) / z;`,
  );
};

export const logSoftmax: KernelEmitter<"log_softmax"> = ({ ins, outs, a }) => {
  const { C, S } = a;
  return perPosition(
    C,
    S,
    `${maxAndSum(read(ins[0]!, S), C)}
  const lse = m + Math.log(z);
  for (let c = 0; c < ${C}; c++) f[${outs[0]} + o + c * ${S}] = f[${ins[0]} + o + c * ${S}] - lse;`,
  );
};

/** dx = y · (dy − Σ_c dy·y), negated for SoftMin: y · (Σ_c dy·y − dy). */
export const softmaxGrad: KernelEmitter<"softmax_grad"> = ({ ins, outs, a, acc }) => {
  const { C, S } = a;
  const [y, dy] = ins;
  const diff = a.negate ? `d - f[${dy} + p]` : `f[${dy} + p] - d`;
  return perPosition(
    C,
    S,
    `let d = 0;
  for (let c = 0; c < ${C}; c++) d += f[${dy} + o + c * ${S}] * f[${y} + o + c * ${S}];
  for (let c = 0; c < ${C}; c++) { const p = o + c * ${S}; f[${outs[0]} + p] ${assign(acc)} f[${y} + p] * (${diff}); }`,
  );
};

/** dx = dy − exp(y) · Σ_c dy */
export const logSoftmaxGrad: KernelEmitter<"log_softmax_grad"> = ({ ins, outs, a, acc }) => {
  const { C, S } = a;
  const [y, dy] = ins;
  return perPosition(
    C,
    S,
    `let d = 0;
  for (let c = 0; c < ${C}; c++) d += f[${dy} + o + c * ${S}];
  for (let c = 0; c < ${C}; c++) { const p = o + c * ${S}; f[${outs[0]} + p] ${assign(acc)} f[${dy} + p] - Math.exp(f[${y} + p]) * d; }`,
  );
};
