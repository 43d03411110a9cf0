// Kernels that move values: Add, Concat along channels, nearest and bilinear upsampling — and
// their gradients.
import { bilinearTaps, type Bilinear, type BilinearTap } from "../../../ops.js";
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

/**
 * Over every output of a bilinear upsampling: `a` and `b`, the offsets of its two input rows,
 * and the tables of its columns (`c0`, `c1`) and weights (`h0`, `h1` by row, `w0`, `w1` by
 * column), from bilinearTaps.
 */
function bilinearLoops(a: Bilinear, body: string): string {
  const { C, H, W, scale } = a;
  const rows = bilinearTaps(H, scale, a.alignCorners);
  const cols = bilinearTaps(W, scale, a.alignCorners);
  const table = (name: string, taps: BilinearTap[], pick: (t: BilinearTap) => number) =>
    `${name} = ${JSON.stringify(taps.map(pick))}`;
  return `const ${[
    table("r0", rows, (t) => t.i0 * W),
    table("r1", rows, (t) => t.i1 * W),
    table("h0", rows, (t) => t.l0),
    table("h1", rows, (t) => t.l1),
    table("c0", cols, (t) => t.i0),
    table("c1", cols, (t) => t.i1),
    table("w0", cols, (t) => t.l0),
    table("w1", cols, (t) => t.l1),
  ].join(", ")};
for (let nc = 0; nc < N * ${C}; nc++) for (let oh = 0; oh < ${H * scale}; oh++) for (let ow = 0; ow < ${W * scale}; ow++) {
  const a = nc * ${H * W} + r0[oh], b = nc * ${H * W} + r1[oh], yo = (nc * ${H * scale} + oh) * ${W * scale} + ow;
  ${body}
}`;
}

export const upsampleBilinear: KernelEmitter<"upsample_bilinear"> = ({ ins, outs, a }) => {
  const x = (row: string, col: string) => `f[${ins[0]} + ${row} + ${col}[ow]]`;
  return bilinearLoops(
    a,
    `f[${outs[0]} + yo] = h0[oh] * (w0[ow] * ${x("a", "c0")} + w1[ow] * ${x("a", "c1")}) + h1[oh] * (w0[ow] * ${x("b", "c0")} + w1[ow] * ${x("b", "c1")});`,
  );
};

/** Each output's gradient goes to its four inputs by their weights; neighbours' parts add up. */
export const upsampleBilinearGrad: KernelEmitter<"upsample_bilinear_grad"> = ({
  ins,
  outs,
  a,
  acc,
}) => {
  const dx = (row: string, col: string) => `f[${outs[0]} + ${row} + ${col}[ow]]`;
  return (
    clearUnlessAccumulating(outs[0]!, `N * ${a.C * a.H * a.W}`, acc) +
    bilinearLoops(
      a,
      `const g = f[${ins[0]} + yo];
  ${dx("a", "c0")} += h0[oh] * w0[ow] * g; ${dx("a", "c1")} += h0[oh] * w1[ow] * g;
  ${dx("b", "c0")} += h1[oh] * w0[ow] * g; ${dx("b", "c1")} += h1[oh] * w1[ow] * g;`,
    )
  );
};
