// Batch normalisation over channels [N, C, S]: batch statistics in training, running ones otherwise.
import type { KernelEmitter } from "./kernel.js";

/**
 * Inputs x, (gamma, beta), running mean, running var; outputs y, mean, invstd (kept for the
 * backward pass). Running statistics use the unbiased variance, as PyTorch does.
 */
export const batchNorm: KernelEmitter<"batch_norm"> = ({ ins, outs, a }) => {
  const { C, S, affine } = a;
  const [x, gamma, beta, rmean, rvar] = affine ? ins : [ins[0], "", "", ins[1], ins[2]];
  const [y, mean, invstd] = outs;
  const scale = affine ? `f[${gamma} + c]` : "1";
  const shift = affine ? `f[${beta} + c]` : "0";
  const m = a.momentum;
  return `for (let c = 0; c < ${C}; c++) {
  let mu, inv;
  if (training) {
    // Statistics of the real samples only: a partial batch's padding stays out of them.
    const M = count * ${S};
    let s = 0;
    for (let n = 0; n < count; n++) for (let i = (n * ${C} + c) * ${S}, e = i + ${S}; i < e; i++) s += f[${x} + i];
    mu = s / M;
    let v = 0;
    for (let n = 0; n < count; n++) for (let i = (n * ${C} + c) * ${S}, e = i + ${S}; i < e; i++) { const d = f[${x} + i] - mu; v += d * d; }
    inv = 1 / Math.sqrt(v / M + ${a.eps});
    f[${rmean} + c] = ${1 - m} * f[${rmean} + c] + ${m} * mu;
    f[${rvar} + c] = ${1 - m} * f[${rvar} + c] + ${m} * (M > 1 ? v / (M - 1) : v);
  } else {
    mu = f[${rmean} + c];
    inv = 1 / Math.sqrt(f[${rvar} + c] + ${a.eps});
  }
  f[${mean} + c] = mu;
  f[${invstd} + c] = inv;
  const g = ${scale} * inv, h = ${shift} - mu * g;
  for (let n = 0; n < N; n++) for (let i = (n * ${C} + c) * ${S}, e = i + ${S}; i < e; i++) f[${y} + i] = f[${x} + i] * g + h;
}`;
};

/**
 * Inputs x, (gamma), mean, invstd, dy; outputs dx, (dgamma, dbeta): training-mode gradient. A
 * frozen layer's step has no dgamma and dbeta, though it reads gamma.
 */
export const batchNormGrad: KernelEmitter<"batch_norm_grad"> = ({ ins, outs, a, acc }) => {
  const { C, S, affine } = a;
  const [x, gamma, mean, invstd, dy] = affine ? ins : [ins[0], "", ins[1], ins[2], ins[3]];
  const [dx, dgamma, dbeta] = outs;
  return `for (let c = 0; c < ${C}; c++) {
  const M = count * ${S}, mu = f[${mean} + c], inv = f[${invstd} + c];
  let sdy = 0, sdyx = 0;
  for (let n = 0; n < count; n++) for (let i = (n * ${C} + c) * ${S}, e = i + ${S}; i < e; i++) { const g = f[${dy} + i]; sdy += g; sdyx += g * (f[${x} + i] - mu) * inv; }
  ${dgamma ? `f[${dgamma} + c] = sdyx; f[${dbeta} + c] = sdy;` : ""}
  ${
    dx
      ? `const k = ${affine ? `f[${gamma} + c]` : "1"} * inv / M;
  for (let n = 0; n < N; n++) for (let i = (n * ${C} + c) * ${S}, e = i + ${S}; i < e; i++)
    f[${dx} + i] ${acc ? "+=" : "="} n < count ? k * (M * f[${dy} + i] - sdy - (f[${x} + i] - mu) * inv * sdyx) : 0;`
      : ""
  }
}`;
};
