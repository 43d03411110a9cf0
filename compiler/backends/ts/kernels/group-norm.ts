// Group normalisation (GroupNorm, LayerNorm, InstanceNorm) over [N, C, S]: each sample's groups
// of C/G channels, statistics per sample and group, a scale and shift per channel.
import type { GroupNormAttrs } from "../../../ops.js";
import { type KernelEmitter } from "./kernel.js";

/**
 * Loops over every group of every sample (`n`, `g`): `o` the group's first value, `k` its
 * statistics' index, `M` its count of values, then `body`.
 */
function eachGroup(a: GroupNormAttrs, body: string): string {
  const per = a.C / a.G;
  return `for (let n = 0; n < N; n++) for (let g = 0; g < ${a.G}; g++) {
  const o = (n * ${a.C} + g * ${per}) * ${a.S}, k = n * ${a.G} + g, M = ${per * a.S};
  ${body}
}`;
}

/** `body` for each channel `c` of group `g` with `i` running over its values from `o`. */
const eachChannelOfGroup = (a: GroupNormAttrs, perChannel: string, body: string) =>
  `for (let c = g * ${a.C / a.G}, i = o; c < (g + 1) * ${a.C / a.G}; c++) {
    ${perChannel}
    for (let e = i + ${a.S}; i < e; i++) ${body}
  }`;

/** Inputs x, (weight, bias); outputs y, mean, invstd (per sample and group, for the backward). */
export const groupNorm: KernelEmitter<"group_norm"> = ({ ins, outs, a }) => {
  const [x, w, b] = ins;
  const [y, mean, invstd] = outs;
  return eachGroup(
    a,
    `let s = 0;
  for (let i = o; i < o + M; i++) s += f[${x} + i];
  const mu = s / M;
  let v = 0;
  for (let i = o; i < o + M; i++) { const d = f[${x} + i] - mu; v += d * d; }
  const inv = 1 / Math.sqrt(v / M + ${a.eps});
  f[${mean} + k] = mu;
  f[${invstd} + k] = inv;
  ${eachChannelOfGroup(
    a,
    `const scale = ${a.affine ? `f[${w} + c] * inv` : "inv"}, shift = ${a.affine ? `f[${b} + c]` : "0"} - mu * scale;`,
    `f[${y} + i] = f[${x} + i] * scale + shift;`,
  )}`,
  );
};

/**
 * Inputs x, (weight), mean, invstd, dy; output dx. With ĝ = dy·weight and x̂ = (x − μ)·invstd:
 * dx = invstd·(ĝ − Σĝ/M − x̂·Σ(ĝ·x̂)/M) over the group; 0 for the batch's padding.
 */
export const groupNormGrad: KernelEmitter<"group_norm_grad"> = ({ ins, outs, a, acc }) => {
  const [x, w, mean, invstd, dy] = a.affine ? ins : [ins[0], "", ins[1], ins[2], ins[3]];
  const weight = a.affine ? `const wc = f[${w} + c];` : "const wc = 1;";
  return eachGroup(
    a,
    `const mu = f[${mean} + k], inv = f[${invstd} + k];
  let sum = 0, dot = 0;
  ${eachChannelOfGroup(a, weight, `{ const gh = f[${dy} + i] * wc; sum += gh; dot += gh * (f[${x} + i] - mu) * inv; }`)}
  ${eachChannelOfGroup(
    a,
    weight,
    `f[${outs[0]} + i] ${acc ? "+=" : "="} n < count ? inv * (f[${dy} + i] * wc - sum / M - (f[${x} + i] - mu) * inv * dot / M) : 0;`,
  )}`,
  );
};

/** Inputs x, mean, invstd, dy; outputs dweight, dbias: per channel, over the real samples. */
export const groupNormGradParams: KernelEmitter<"group_norm_grad_params"> = ({ ins, outs, a }) => {
  const [x, mean, invstd, dy] = ins;
  const [dw, db] = outs;
  const { C, S, G } = a;
  return `for (let c = 0; c < ${C}; c++) {
  let sw = 0, sb = 0;
  for (let n = 0; n < count; n++) {
    const k = n * ${G} + Math.floor(c / ${C / G}), mu = f[${mean} + k], inv = f[${invstd} + k];
    for (let i = (n * ${C} + c) * ${S}, e = i + ${S}; i < e; i++) { const g = f[${dy} + i]; sw += g * (f[${x} + i] - mu) * inv; sb += g; }
  }
  f[${dw} + c] = sw;
  f[${db} + c] = sb;
}`;
};
