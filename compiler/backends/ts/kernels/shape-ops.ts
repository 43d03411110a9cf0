// Kernels that move values: Add, Concat along channels, nearest upsampling — and their gradients.
import { assign, clearUnlessAccumulating, type KernelEmitter } from "./kernel.js";

/** y = Σ inputs, elementwise. */
export const add: KernelEmitter<"add"> = ({ ins, outs, a }) =>
  `for (let i = 0; i < N * ${a.size}; i++) f[${outs[0]} + i] = ${ins.map((x) => `f[${x} + i]`).join(" + ")};`;

/** Each input's gradient is dy itself. */
export const addGrad: KernelEmitter<"add_grad"> = ({ ins, outs, a }) => {
  // An input that needs no gradient has no output name.
  return outs
    .map((dx, k) =>
      dx === ""
        ? ""
        : `for (let i = 0; i < N * ${a.size}; i++) f[${dx} + i] ${assign(a.accumulate[k]!)} f[${ins[0]} + i];`,
    )
    .join("\n");
};

export const concat: KernelEmitter<"concat"> = ({ ins, outs, a }) => {
  const { sizes } = a;
  const total = sizes.reduce((s, v) => s + v, 0);
  let at = 0;
  const copies = ins.map((x, k) => {
    const line = `for (let i = 0; i < ${sizes[k]}; i++) f[${outs[0]} + n * ${total} + ${at} + i] = f[${x} + n * ${sizes[k]} + i];`;
    at += sizes[k]!;
    return line;
  });
  return `for (let n = 0; n < N; n++) {\n${copies.join("\n")}\n}`;
};

export const concatGrad: KernelEmitter<"concat_grad"> = ({ ins, outs, a }) => {
  const { sizes } = a;
  const total = sizes.reduce((s, v) => s + v, 0);
  let at = 0;
  const copies = outs.map((dx, k) => {
    const line =
      dx === ""
        ? ""
        : `for (let i = 0; i < ${sizes[k]}; i++) f[${dx} + n * ${sizes[k]} + i] ${assign(a.accumulate[k]!)} f[${ins[0]} + n * ${total} + ${at} + i];`;
    at += sizes[k]!;
    return line;
  });
  return `for (let n = 0; n < N; n++) {\n${copies.join("\n")}\n}`;
};

export const upsampleNearest: KernelEmitter<"upsample_nearest"> = ({ ins, outs, a }) => {
  const { H, W, scale: s } = a;
  return `for (let nc = 0; nc < N * ${a.C}; nc++) for (let oh = 0; oh < ${H * s}; oh++) for (let ow = 0; ow < ${W * s}; ow++)
  f[${outs[0]} + (nc * ${H * s} + oh) * ${W * s} + ow] = f[${ins[0]} + (nc * ${H} + ((oh / ${s}) | 0)) * ${W} + ((ow / ${s}) | 0)];`;
};

export const upsampleNearestGrad: KernelEmitter<"upsample_nearest_grad"> = ({
  ins,
  outs,
  a,
  acc,
}) => {
  const { C, H, W, scale: s } = a;
  const zero = clearUnlessAccumulating(outs[0]!, `N * ${C * H * W}`, acc);
  return `${zero}for (let nc = 0; nc < N * ${C}; nc++) for (let oh = 0; oh < ${H * s}; oh++) for (let ow = 0; ow < ${W * s}; ow++)
  f[${outs[0]} + (nc * ${H} + ((oh / ${s}) | 0)) * ${W} + ((ow / ${s}) | 0)] += f[${ins[0]} + (nc * ${H * s} + oh) * ${W * s} + ow];`;
};
