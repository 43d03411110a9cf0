// Max and average pooling over windows, fixed or adaptive, and their gradients (max recomputes its
// argmax).
import type { AdaptiveWindow, MeanWindow, Window } from "../../../ops.js";
import { clearUnlessAccumulating, type KernelEmitter } from "./kernel.js";

function windowLoops(a: Window, body: () => string): string {
  const { C, H, W, OH, OW, KH, KW, SH, SW, PH, PW } = a;
  return `for (let nc = 0; nc < N * ${C}; nc++) for (let oh = 0; oh < ${OH}; oh++) for (let ow = 0; ow < ${OW}; ow++) {
  const xo = nc * ${H * W}, yo = nc * ${OH * OW} + oh * ${OW} + ow;
  const i0 = Math.max(0, oh * ${SH} - ${PH}), i1 = Math.min(${H}, oh * ${SH} - ${PH} + ${KH});
  const j0 = Math.max(0, ow * ${SW} - ${PW}), j1 = Math.min(${W}, ow * ${SW} - ${PW} + ${KW});
  ${body()}
}`;
}

/** The same loops over adaptive windows: rows ⌊oh·H/OH⌋ to ⌈(oh+1)·H/OH⌉, likewise columns. */
function adaptiveLoops(a: AdaptiveWindow, body: () => string): string {
  const { C, H, W, OH, OW } = a;
  return `for (let nc = 0; nc < N * ${C}; nc++) for (let oh = 0; oh < ${OH}; oh++) for (let ow = 0; ow < ${OW}; ow++) {
  const xo = nc * ${H * W}, yo = nc * ${OH * OW} + oh * ${OW} + ow;
  const i0 = Math.floor(oh * ${H} / ${OH}), i1 = Math.ceil((oh + 1) * ${H} / ${OH});
  const j0 = Math.floor(ow * ${W} / ${OW}), j1 = Math.ceil((ow + 1) * ${W} / ${OW});
  ${body()}
}`;
}

const maxBody = (x: string, y: string, W: number) => () => `let m = -Infinity;
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) { const v = f[${x} + xo + i * ${W} + j]; if (v > m) m = v; }
  f[${y} + yo] = m;`;

export const maxPool: KernelEmitter<"max_pool"> = ({ ins, outs, a }) =>
  windowLoops(a, maxBody(ins[0]!, outs[0]!, a.W));

export const adaptiveMaxPool: KernelEmitter<"adaptive_max_pool"> = ({ ins, outs, a }) =>
  adaptiveLoops(a, maxBody(ins[0]!, outs[0]!, a.W));

/** The gradient goes to the first maximum of each window, as PyTorch's argmax picks it. */
const maxGrad =
  (loops: (body: () => string) => string, C: number, H: number, W: number) =>
  ({ ins, outs, acc }: { ins: string[]; outs: string[]; acc: boolean }): string => {
    const [x, y, dy] = ins;
    const zero = clearUnlessAccumulating(outs[0]!, `N * ${C * H * W}`, acc);
    return (
      zero +
      loops(
        () => `const m = f[${y} + yo];
  find: for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) {
    const p = xo + i * ${W} + j;
    if (f[${x} + p] === m) { f[${outs[0]} + p] += f[${dy} + yo]; break find; }
  }`,
      )
    );
  };

export const maxPoolGrad: KernelEmitter<"max_pool_grad"> = (e) =>
  maxGrad((body) => windowLoops(e.a, body), e.a.C, e.a.H, e.a.W)(e);

export const adaptiveMaxPoolGrad: KernelEmitter<"adaptive_max_pool_grad"> = (e) =>
  maxGrad((body) => adaptiveLoops(e.a, body), e.a.C, e.a.H, e.a.W)(e);

/** Each window's mean over its own taps (windows differ in size by one). */
export const adaptiveAvgPool: KernelEmitter<"adaptive_avg_pool"> = ({ ins, outs, a }) =>
  adaptiveLoops(
    a,
    () => `let s = 0;
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) s += f[${ins[0]} + xo + i * ${a.W} + j];
  f[${outs[0]} + yo] = s / ((i1 - i0) * (j1 - j0));`,
  );

export const adaptiveAvgPoolGrad: KernelEmitter<"adaptive_avg_pool_grad"> = ({
  ins,
  outs,
  a,
  acc,
}) =>
  clearUnlessAccumulating(outs[0]!, `N * ${a.C * a.H * a.W}`, acc) +
  adaptiveLoops(
    a,
    () => `const g = f[${ins[0]} + yo] / ((i1 - i0) * (j1 - j0));
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) f[${outs[0]} + xo + i * ${a.W} + j] += g;`,
  );

/**
 * The divisor of the window at (oh, ow): KH·KW, or its own from the step's table (ceil mode,
 * count_include_pad=false), declared before the loops as `d`.
 */
const divisor = (a: MeanWindow) =>
  a.divisors
    ? { table: `const d = ${JSON.stringify(a.divisors)};\n`, at: `d[oh * ${a.OW} + ow]` }
    : { table: "", at: `${a.KH * a.KW}` };

/** Zero padding counts in the mean unless the divisors say otherwise. */
export const avgPool: KernelEmitter<"avg_pool"> = ({ ins, outs, a }) => {
  const d = divisor(a);
  return (
    d.table +
    windowLoops(
      a,
      () => `let s = 0;
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) s += f[${ins[0]} + xo + i * ${a.W} + j];
  f[${outs[0]} + yo] = s / ${d.at};`,
    )
  );
};

export const avgPoolGrad: KernelEmitter<"avg_pool_grad"> = ({ ins, outs, a, acc }) => {
  const W = a.W;
  const d = divisor(a);
  const zero = clearUnlessAccumulating(outs[0]!, `N * ${a.C * a.H * W}`, acc);
  return (
    zero +
    d.table +
    windowLoops(
      a,
      () => `const g = f[${ins[0]} + yo] / ${d.at};
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) f[${outs[0]} + xo + i * ${W} + j] += g;`,
    )
  );
};
