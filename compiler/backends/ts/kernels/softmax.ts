// SoftMax and LogSoftMax over the channel dimension of [N, C, S...], and their gradients.
import { assign, type KernelEmitter } from "./kernel.js";

/** Loops over (n, s) with `o` the offset of channel 0 and `S` the stride between channels. */
function perPosition(C: number, S: number, body: string): string {
  return `for (let n = 0; n < N; n++) for (let s = 0; s < ${S}; s++) {
  const o = n * ${C * S} + s;
  ${body}
}`;
}

const maxAndSum = (x: string, C: number, S: number) => `let m = -Infinity;
  for (let c = 0; c < ${C}; c++) { const v = f[${x} + o + c * ${S}]; if (v > m) m = v; }
  let z = 0;
  for (let c = 0; c < ${C}; c++) z += Math.exp(f[${x} + o + c * ${S}] - m);`;

export const softmax: KernelEmitter<"softmax"> = ({ ins, outs, a }) => {
  const { C, S } = a;
  return perPosition(
    C,
    S,
    `${maxAndSum(ins[0]!, C, S)}
  for (let c = 0; c < ${C}; c++) f[${outs[0]} + o + c * ${S}] = Math.exp(f[${ins[0]} + o + c * ${S}] - m) / z;`,
  );
};

export const logSoftmax: KernelEmitter<"log_softmax"> = ({ ins, outs, a }) => {
  const { C, S } = a;
  return perPosition(
    C,
    S,
    `${maxAndSum(ins[0]!, C, S)}
  const lse = m + Math.log(z);
  for (let c = 0; c < ${C}; c++) f[${outs[0]} + o + c * ${S}] = f[${ins[0]} + o + c * ${S}] - lse;`,
  );
};

/** dx = y · (dy − Σ_c dy·y) */
export const softmaxGrad: KernelEmitter<"softmax_grad"> = ({ ins, outs, a, acc }) => {
  const { C, S } = a;
  const [y, dy] = ins;
  return perPosition(
    C,
    S,
    `let d = 0;
  for (let c = 0; c < ${C}; c++) d += f[${dy} + o + c * ${S}] * f[${y} + o + c * ${S}];
  for (let c = 0; c < ${C}; c++) { const p = o + c * ${S}; f[${outs[0]} + p] ${assign(acc)} f[${y} + p] * (f[${dy} + p] - d); }`,
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
