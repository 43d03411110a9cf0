// Max and average pooling over windows, and their gradients (max recomputes its argmax).
import type { Window } from "../../../ops.js";
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

export const maxPool: KernelEmitter<"max_pool"> = ({ ins, outs, a }) =>
  windowLoops(
    a,
    () => `let m = -Infinity;
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) { const v = f[${ins[0]} + xo + i * ${a.W} + j]; if (v > m) m = v; }
  f[${outs[0]} + yo] = m;`,
  );

/** The gradient goes to the first maximum of each window, as PyTorch's argmax picks it. */
export const maxPoolGrad: KernelEmitter<"max_pool_grad"> = ({ ins, outs, a, acc }) => {
  const [x, y, dy] = ins;
  const W = a.W;
  const zero = clearUnlessAccumulating(outs[0]!, `N * ${a.C * a.H * W}`, acc);
  return (
    zero +
    windowLoops(
      a,
      () => `const m = f[${y} + yo];
  find: for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) {
    const p = xo + i * ${W} + j;
    if (f[${x} + p] === m) { f[${outs[0]} + p] += f[${dy} + yo]; break find; }
  }`,
    )
  );
};

/** Zero padding counts in the mean (PyTorch's count_include_pad=True). */
export const avgPool: KernelEmitter<"avg_pool"> = ({ ins, outs, a }) =>
  windowLoops(
    a,
    () => `let s = 0;
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) s += f[${ins[0]} + xo + i * ${a.W} + j];
  f[${outs[0]} + yo] = s / ${a.KH * a.KW};`,
  );

export const avgPoolGrad: KernelEmitter<"avg_pool_grad"> = ({ ins, outs, a, acc }) => {
  const W = a.W;
  const zero = clearUnlessAccumulating(outs[0]!, `N * ${a.C * a.H * W}`, acc);
  return (
    zero +
    windowLoops(
      a,
      () => `const g = f[${ins[0]} + yo] / ${a.KH * a.KW};
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) f[${outs[0]} + xo + i * ${W} + j] += g;`,
    )
  );
};
