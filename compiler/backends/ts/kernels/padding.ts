// Zero, reflection and replication padding, and its gradient.
import { padSource, type Padding } from "../../../ops.js";
import { clearUnlessAccumulating, type KernelEmitter } from "./kernel.js";

/**
 * Over every output position of a padding: `i` and `j`, the input row and column it copies (−1
 * for a zero), from tables of padSource made here, and `yo`, its offset in the output.
 */
function padLoops(a: Padding, body: string): string {
  const [HO, WO] = [a.top + a.H + a.bottom, a.left + a.W + a.right];
  const rows = Array.from({ length: HO }, (_, o) => padSource(o - a.top, a.H, a.mode));
  const cols = Array.from({ length: WO }, (_, o) => padSource(o - a.left, a.W, a.mode));
  return `const rows = ${JSON.stringify(rows)}, cols = ${JSON.stringify(cols)};
for (let nc = 0; nc < N * ${a.C}; nc++) for (let oh = 0; oh < ${HO}; oh++) for (let ow = 0; ow < ${WO}; ow++) {
  const i = rows[oh], j = cols[ow], xo = (nc * ${a.H} + i) * ${a.W} + j, yo = (nc * ${HO} + oh) * ${WO} + ow;
  ${body}
}`;
}

export const pad: KernelEmitter<"pad"> = ({ ins, outs, a }) =>
  padLoops(a, `f[${outs[0]} + yo] = i < 0 || j < 0 ? 0 : f[${ins[0]} + xo];`);

/** Each output position's gradient goes to the input it copies: border copies add up. */
export const padGrad: KernelEmitter<"pad_grad"> = ({ ins, outs, a, acc }) =>
  clearUnlessAccumulating(outs[0]!, `N * ${a.C * a.H * a.W}`, acc) +
  padLoops(a, `if (i >= 0 && j >= 0) f[${outs[0]} + xo] += f[${ins[0]} + yo];`);
